"""Compact, read-only tables for the knowledge base's million strings.

A KB of MeSH holds about a million alias keys, concept ids and names. As Python
``dict``/``list`` objects they cost about 500 MB once loaded; here each table is one
UTF-8 blob with an offset array (and, for a sorted table, binary search on it), so the
strings cost their bytes and loading is a few array copies instead of a million objects.
"""
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

import numpy as np

#: Offsets into a blob, and starts of the lists of :class:`KeyedLists` (tables < 4 GiB).
OFFSET = np.uint32
_MAX_OFFSET = int(np.iinfo(OFFSET).max)


class StringTable:
    """A sequence of strings stored as one UTF-8 blob and ``n + 1`` offsets."""

    def __init__(self, blob: Union[bytes, memoryview], offsets: np.ndarray) -> None:
        """blob: the UTF-8 bytes (or a read-only view of them, as in a mapped KB file);
        offsets: where each string starts, and the end."""
        self.blob = blob
        self.offsets = offsets
        self._bounds = np.ascontiguousarray(offsets).data  # plain ints, fast to index

    @classmethod
    def from_strings(cls, strings: Iterable[str]) -> "StringTable":
        """Pack ``strings`` in their order."""
        encoded = [s.encode("utf8") for s in strings]
        return cls(b"".join(encoded), _offsets([len(b) for b in encoded]))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def raw(self, i: int) -> bytes:
        """The UTF-8 bytes of string ``i``."""
        bounds = self._bounds
        return bytes(self.blob[bounds[i]:bounds[i + 1]])

    def __getitem__(self, i: int) -> str:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self.raw(i % len(self)).decode("utf8")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def to_dict(self) -> Dict[str, Any]:
        """Plain bytes for msgpack."""
        return {"blob": self.blob, "offsets": self.offsets.tobytes()}

    @classmethod
    def from_dict(cls, data: Any) -> "StringTable":
        """Inverse of :meth:`to_dict`; a plain list of strings is packed."""
        if isinstance(data, list):
            return cls.from_strings(data)
        blob = data["blob"]
        return cls(blob if isinstance(blob, (bytes, memoryview)) else bytes(blob),
                   np.frombuffer(data["offsets"], dtype=OFFSET))


class StringIndex:
    """Position of each string of a :class:`StringTable` by binary search.

    ``order`` lists the table's positions sorted by their UTF-8 bytes (the order of
    code points, so of Python's ``sorted``); a table that is sorted already needs none.
    """

    def __init__(self, table: StringTable, order: Optional[np.ndarray] = None) -> None:
        self.table = table
        self.order = order
        self._order = np.ascontiguousarray(order).data if order is not None else None

    @classmethod
    def build(cls, table: StringTable) -> "StringIndex":
        """Index an unsorted table (the order is computed once)."""
        keys = [table.raw(i) for i in range(len(table))]
        order = np.asarray(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int32)
        return cls(table, order)

    def _at(self, rank: int) -> int:
        return self._order[rank] if self._order is not None else rank

    def find(self, key: str) -> int:
        """Position of ``key`` in the table, -1 if absent."""
        target = key.encode("utf8")
        lo, hi = 0, len(self.table)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.table.raw(self._at(mid)) < target:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self.table) and self.table.raw(self._at(lo)) == target:
            return self._at(lo)
        return -1

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.find(key) >= 0


class KeyedLists:
    """Sorted string keys, each with a list of integers (alias key -> concept indices)."""

    def __init__(self, keys: StringTable, starts: np.ndarray, values: np.ndarray) -> None:
        self.keys = keys
        self.index = StringIndex(keys)
        self.starts = starts
        self.values = values

    @classmethod
    def pack(cls, table: Mapping[str, Sequence[int]]) -> "KeyedLists":
        """Pack a ``{key: [int, ...]}`` mapping."""
        keys = sorted(table)
        starts = _offsets([len(table[k]) for k in keys])
        values = np.fromiter((v for k in keys for v in table[k]), dtype=np.int32,
                             count=int(starts[-1]))
        return cls(StringTable.from_strings(keys), starts, values)

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, key: str) -> List[int]:
        """The integers of ``key`` (empty if absent)."""
        pos = self.index.find(key)
        if pos < 0:
            return []
        return self.values[self.starts[pos]:self.starts[pos + 1]].tolist()

    def __contains__(self, key: object) -> bool:
        return key in self.index

    def to_dict(self) -> Dict[str, Any]:
        """Plain bytes for msgpack."""
        return {"keys": self.keys.to_dict(), "starts": self.starts.tobytes(),
                "values": self.values.tobytes()}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "KeyedLists":
        """Inverse of :meth:`to_dict`."""
        return cls(StringTable.from_dict(data["keys"]),
                   np.frombuffer(data["starts"], dtype=OFFSET),
                   np.frombuffer(data["values"], dtype=np.int32))


def _offsets(lengths: Sequence[int]) -> np.ndarray:
    """``0`` and the running sums of ``lengths``."""
    total = np.zeros(len(lengths) + 1, dtype=np.int64)
    if len(lengths):
        np.cumsum(lengths, out=total[1:])
    if total[-1] > _MAX_OFFSET:
        raise ValueError(f"table of {int(total[-1])} bytes or items: more than {_MAX_OFFSET}")
    return total.astype(OFFSET)
