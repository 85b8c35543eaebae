"""The linking KB's file: a JSON header line, a msgpack body, and (format 3) an array section.

Format 3 keeps the body small: every byte string of the packed tables (string blobs,
offsets, the n-gram matrices) is stored once, raw, in an array section after it,
each array aligned to :data:`ALIGN` bytes, and the body refers to it by number. Read from
disk, the file is memory-mapped and the tables are views of the mapping: loading copies
nothing, only the pages a lookup touches become resident, and processes forked from one
pipeline (``nlp.pipe(n_process=N)``) share them. Formats 1 and 2 (everything inside the
msgpack body) are read with one copy, as before.
"""
import json
import mmap
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

import srsly

from .vocab import PathLike, VocabError

FORMAT = "spacy-biobert-linking-kb"
#: 3: array section; 2: packed tables inside the body; 1: lists and dicts.
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
#: Alignment of each array in the file (so typed views of the mapping are aligned).
ALIGN = 64
_REF = "__array__"

Buffer = Union[bytes, bytearray, memoryview, mmap.mmap]


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _split(value: Any, arrays: List[Buffer]) -> Any:
    """``value`` with its byte strings replaced by references into ``arrays``."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        arrays.append(value)
        return {_REF: len(arrays) - 1}
    if isinstance(value, dict):
        return {k: _split(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_split(v, arrays) for v in value]
    return value


def _join(value: Any, arrays: List[memoryview]) -> Any:
    """Inverse of :func:`_split`: references replaced by views of ``arrays``."""
    if isinstance(value, dict):
        if len(value) == 1 and _REF in value:
            return arrays[value[_REF]]
        return {k: _join(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_join(v, arrays) for v in value]
    return value


def dump(header: Dict[str, Any], body: Dict[str, Any], array_fields: Tuple[str, ...]) -> bytes:
    """The file content (format 3) of ``header`` and ``body``; the byte strings of the
    ``array_fields`` of the body go to the array section."""
    arrays: List[Buffer] = []
    split = {k: _split(v, arrays) if k in array_fields else v for k, v in body.items()}
    data = srsly.msgpack_dumps(split)
    offsets, position = [], 0
    for array in arrays:
        size = memoryview(array).nbytes
        offsets.append([position, size])
        position = _aligned(position + size)
    head = dict(header, format_version=FORMAT_VERSION, body_bytes=len(data),
                array_fields=list(array_fields), arrays=offsets, array_bytes=position)
    first = json.dumps(head).encode("utf8") + b"\n" + data
    parts = [first, b"\0" * (_aligned(len(first)) - len(first))]
    for array, (start, size) in zip(arrays, offsets):
        parts.append(bytes(array) if isinstance(array, memoryview) else array)
        parts.append(b"\0" * (_aligned(start + size) - start - size))
    return b"".join(parts)


def write(path: PathLike, content: bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename, so a process
    that has the old file mapped keeps reading the old file."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: PathLike) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(header, body) of a KB file, memory-mapped: the arrays of a format-3 file are
    read-only views of the mapping; formats 1 and 2 are copied out of it."""
    file = Path(path)
    if not file.is_file():
        raise VocabError("KB file not found: build it with `python -m spacy_biobert "
                         "build-kb`", path=path)
    with file.open("rb") as handle:
        try:
            mapped: Buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # an empty file, or a file system without mmap
            mapped = file.read_bytes()
    return parse(mapped, path)


def read_header(path: PathLike) -> Dict[str, Any]:
    """The JSON header of a KB file (format, MeSH version, build report), body unread.

    RETURNS (Dict[str, Any]): The header; a file that is not a KB is a VocabError.
    """
    with Path(path).open("rb") as handle:
        return _header(handle.readline(), path)


def _header(first: bytes, path: PathLike) -> Dict[str, Any]:
    try:
        header = json.loads(first.decode("utf8"))
    except (UnicodeDecodeError, ValueError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise VocabError(f"not a linking KB file (format is not {FORMAT!r})", path=path, line=1)
    if header.get("format_version") not in READABLE_VERSIONS:
        raise VocabError(f"KB format version {header.get('format_version')!r}, this version of "
                         f"spacy-biobert reads {', '.join(map(str, READABLE_VERSIONS))}: "
                         "rebuild it (build-kb)", path=path, line=1)
    return header


def parse(data: Buffer, path: PathLike) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(header, body) of a KB file's content; errors name ``path``."""
    if isinstance(data, memoryview):
        data = bytes(data)
    view = memoryview(data)
    end = data.find(b"\n")
    if end < 0:
        end = len(view)
    header = _header(bytes(view[:end]), path)
    body_end = end + 1 + int(header.get("body_bytes") or 0)
    expected = body_end
    if header["format_version"] == 3:
        expected = _aligned(body_end) + int(header.get("array_bytes") or 0)
    if len(view) != expected:
        raise VocabError(f"truncated KB file: {len(view)} of {expected} bytes", path=path)
    try:
        body = srsly.msgpack_loads(view[end + 1:body_end])  # type: ignore[arg-type]
    except Exception as err:  # msgpack raises several types for damaged data
        raise VocabError(f"damaged KB body: {err}", path=path) from None
    if header["format_version"] == 3:
        start = _aligned(body_end)
        arrays = [view[start + offset:start + offset + size]
                  for offset, size in header.get("arrays", [])]
        for name in header.get("array_fields", []):
            if name in body:
                body[name] = _join(body[name], arrays)
    return header, body
