"""The linking knowledge base: concepts, normalized aliases, training priors, n-gram index.

Saved as one file (:mod:`.kbfile`: a JSON header line, a msgpack body and the tables'
arrays, memory-mapped when read from disk), so a wrong or truncated file fails with a
message naming it before any lookup. Built with plain dicts, the KB is packed into the
compact tables of :mod:`.tables` by :meth:`LinkingKB.build_index` and stays read-only
from then on (loaded KBs are packed).
"""
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np

from ..labels import DISEASE
from . import kbfile
from .candidates import NgramIndex
from .normalize import normalize, singular, token_key
from .tables import KeyedLists, StringIndex, StringTable
from .vocab import Concept, PathLike, VocabError

#: Body fields whose byte strings go to the file's array section.
ARRAY_FIELDS = ("ids", "names", "id_order", "aliases", "ngrams")
#: Labels with a word-order-free token index (diseases: "pancreatic tumors" is
#: "Neoplasms, Pancreatic"); systematic chemical names gain little from it.
TOKEN_LABELS = (DISEASE,)


class LinkingKB:
    """Concepts with their aliases per label, and mention priors from training data."""

    def __init__(self, mesh_version: str = "unknown") -> None:
        self.mesh_version = mesh_version
        # While building: plain lists and dicts. Packed by build_index().
        self._ids: List[str] = []
        self._names: List[str] = []
        self._index_of: Optional[Dict[str, int]] = {}
        self._aliases: Dict[str, Dict[str, List[int]]] = {}
        # Packed (read-only) tables.
        self.ids = StringTable.from_strings([])
        self.names = StringTable.from_strings([])
        self._id_index = StringIndex(self.ids)
        self.aliases: Dict[str, KeyedLists] = {}
        self.alt_ids: Dict[str, str] = {}
        self.priors: Dict[str, Dict[str, Dict[str, int]]] = {}
        self.ngrams: Dict[str, NgramIndex] = {}
        self.tokens: Dict[str, Dict[str, List[str]]] = {}
        self._name_keys: Dict[str, str] = {}  # filled on lookup
        self.report: Dict[str, object] = {}

    # building -------------------------------------------------------------------
    def add_concept(self, concept: Concept) -> None:
        """Add a concept (or its names, if its id is known) and all its names as aliases."""
        if self._index_of is None:
            raise RuntimeError("the KB is packed (build_index was called): build a new one")
        idx = self._index_of.get(concept.id)
        if idx is None:
            idx = len(self._ids)
            self._index_of[concept.id] = idx
            self._ids.append(concept.id)
            self._names.append(concept.name)
        for alt in concept.alt_ids:
            self.alt_ids.setdefault(alt, concept.id)
        table = self._aliases.setdefault(concept.label, {})
        for name in [concept.name, *concept.synonyms]:
            for key in {normalize(name), singular(normalize(name))}:
                if key:
                    entry = table.setdefault(key, [])
                    if idx not in entry:
                        entry.append(idx)

    def add_training(self, counts: Dict[Tuple[str, str], Counter]) -> None:
        """Add training mention -> id counts; ids missing from the vocabularies are counted."""
        retired: Counter = Counter()
        for (label, text), ids in counts.items():
            key = normalize(text)
            if not key:
                continue
            prior = self.priors.setdefault(label, {}).setdefault(key, {})
            for id_string, count in ids.items():
                prior[id_string] = prior.get(id_string, 0) + count
                for cid in id_string.split("|"):
                    if not self.knows(cid):
                        retired[cid] += count
        self.report["training_ids_not_in_vocabulary"] = {
            "mentions": sum(retired.values()), "ids": len(retired),
            "examples": sorted(retired)[:20]}

    def build_index(self, max_key_length: int = 80) -> None:
        """Build the n-gram index of every label's alias keys and training keys, and pack
        the KB into its read-only tables."""
        for label in set(self._aliases) | set(self.priors):
            keys = set(self._aliases.get(label, {})) | set(self.priors.get(label, {}))
            self.ngrams[label] = NgramIndex.build(sorted(keys), max_key_length)
            if label in TOKEN_LABELS:
                self.tokens[label] = _token_table(keys)
        self._pack()
        self.report["concepts"] = len(self.ids)
        self.report["aliases"] = {lab: len(t) for lab, t in self.aliases.items()}

    def _pack(self) -> None:
        if self._index_of is None:
            return
        self.ids = StringTable.from_strings(self._ids)
        self.names = StringTable.from_strings(self._names)
        self._id_index = StringIndex.build(self.ids)
        self.aliases = {lab: KeyedLists.pack(t) for lab, t in self._aliases.items()}
        self._ids, self._names, self._aliases, self._index_of = [], [], {}, None

    # lookup ---------------------------------------------------------------------
    def canonical(self, cid: str) -> str:
        """The KB's id for an equivalent id (MEDIC's OMIM <-> MeSH)."""
        return self.alt_ids.get(cid, cid)

    def _position(self, cid: str) -> int:
        cid = self.canonical(cid)
        if self._index_of is not None:
            return self._index_of.get(cid, -1)
        return self._id_index.find(cid)

    def knows(self, cid: str) -> bool:
        """Whether the KB has the concept (or an equivalent id)."""
        return self._position(cid) >= 0

    def name_of(self, cid: str) -> Optional[str]:
        """Preferred name of a concept id, None if the KB does not know it."""
        idx = self._position(cid)
        if idx < 0:
            return None
        return self._names[idx] if self._index_of is not None else self.names[idx]

    def name_key(self, cid: str) -> str:
        """The :func:`~.normalize.token_key` of a concept's preferred name ("" if unknown)."""
        found = self._name_keys.get(cid)
        if found is None:
            name = self.name_of(cid)
            found = self._name_keys[cid] = token_key(normalize(name)) if name else ""
        return found

    def concepts_for(self, label: str, key: str) -> List[str]:
        """Concept ids whose alias is exactly ``key``."""
        table = self.aliases.get(label)
        return [self.ids[i] for i in table.get(key)] if table is not None else []

    def token_aliases(self, label: str, key: str) -> List[str]:
        """Alias keys with the same :func:`~.normalize.token_key` as ``key`` (other
        than ``key`` itself)."""
        table = self.tokens.get(label)
        if not table:
            return []
        return [k for k in table.get(token_key(key), ()) if k != key]

    def prior_for(self, label: str, key: str) -> Dict[str, int]:
        """Training counts of each id string for a mention key (empty if unseen)."""
        return self.priors.get(label, {}).get(key, {})

    # serialization --------------------------------------------------------------
    def header(self) -> Dict[str, object]:
        """The file header: format, versions and the build report."""
        return {"format": kbfile.FORMAT, "format_version": kbfile.FORMAT_VERSION,
                "mesh_version": self.mesh_version, "report": self.report}

    def to_bytes(self) -> bytes:
        """The KB file's content (:mod:`.kbfile`; packs the KB first)."""
        self._pack()
        order = self._id_index.order
        body = {"ids": self.ids.to_dict(), "names": self.names.to_dict(),
                "id_order": order.tobytes() if order is not None else b"",
                "alt_ids": self.alt_ids,
                "aliases": {lab: t.to_dict() for lab, t in self.aliases.items()},
                "priors": self.priors,
                "ngrams": {lab: ix.to_dict() for lab, ix in self.ngrams.items()},
                "tokens": self.tokens}
        return kbfile.dump(self.header(), body, ARRAY_FIELDS)

    def to_disk(self, path: PathLike) -> None:
        """Write the KB file (replacing, not overwriting, one a process may have mapped)."""
        kbfile.write(path, self.to_bytes())

    def __reduce__(self) -> Tuple[Any, Tuple[bytes]]:
        # A KB read from disk holds views of a memory-mapped file: pickle its content.
        return (LinkingKB.from_bytes, (self.to_bytes(),))

    @classmethod
    def from_disk(cls, path: PathLike, mesh_version: Optional[str] = None) -> "LinkingKB":
        """Read a KB file; a wrong format, version or truncated body is a VocabError.

        mesh_version (Optional[str]): Require this MeSH version (None = any).
        """
        return cls._from_parsed(*kbfile.read(path), mesh_version, source=path)

    @classmethod
    def from_bytes(cls, data: bytes, mesh_version: Optional[str] = None,
                   source: PathLike = "<bytes>") -> "LinkingKB":
        """Inverse of :meth:`to_bytes`; errors name ``source``."""
        return cls._from_parsed(*kbfile.parse(data, source), mesh_version, source=source)

    @classmethod
    def _from_parsed(cls, header: Dict[str, Any], body: Dict[str, Any],
                     mesh_version: Optional[str], source: PathLike) -> "LinkingKB":
        if mesh_version is not None and header.get("mesh_version") != mesh_version:
            raise VocabError(f"KB built from MeSH {header.get('mesh_version')!r}, "
                             f"expected {mesh_version!r}: rebuild it (build-kb)", path=source)
        try:
            return cls._unpack(header, body)
        except (KeyError, TypeError, ValueError) as err:
            raise VocabError(
                f"KB body does not match format version {header.get('format_version')} "
                f"({type(err).__name__}: {err}; damaged, or written by another version of "
                "spacy-biobert): rebuild it (build-kb)", path=source) from err

    @classmethod
    def _unpack(cls, header: Dict[str, Any], body: Dict[str, Any]) -> "LinkingKB":
        kb = cls(str(header.get("mesh_version")))
        kb.report = dict(header.get("report") or {})
        kb.alt_ids, kb.priors = body["alt_ids"], body["priors"]
        kb.tokens = body.get("tokens", {})
        kb.ngrams = {lab: NgramIndex.from_dict(d) for lab, d in body["ngrams"].items()}
        if header["format_version"] == 1:  # lists and dicts: pack them
            kb._ids, kb._names = body["ids"], body["names"]
            kb._index_of = {cid: i for i, cid in enumerate(kb._ids)}
            kb._aliases = body["aliases"]
            kb._pack()
            return kb
        kb._index_of = None
        kb.ids, kb.names = StringTable.from_dict(body["ids"]), StringTable.from_dict(body["names"])
        kb._id_index = StringIndex(kb.ids, np.frombuffer(body["id_order"], dtype=np.int32))
        kb.aliases = {lab: KeyedLists.from_dict(t) for lab, t in body["aliases"].items()}
        return kb


def _token_table(keys: Iterable[str]) -> Dict[str, List[str]]:
    """Token key -> the alias keys that have it."""
    table: Dict[str, List[str]] = {}
    for key in sorted(keys):
        tkey = token_key(key)
        if tkey:
            table.setdefault(tkey, []).append(key)
    return table


def build_kb(*, descriptors: Optional[PathLike] = None,
             supplementary: Optional[PathLike] = None,
             medic: Optional[PathLike] = None,
             training: Iterable[PathLike] = (),
             mesh_version: str = "unknown") -> LinkingKB:
    """Build a KB from the vocabulary files and training-split PubTator files.

    descriptors / supplementary (Optional[PathLike]): MeSH TSVs.
    medic (Optional[PathLike]): CTD MEDIC file.
    training (Iterable[PathLike]): Training-split PubTator files (never dev/test).
    mesh_version (str): Recorded in the file header.
    RETURNS (LinkingKB): The KB with its n-gram index built.
    """
    from .vocab import (
        read_medic,
        read_mesh_descriptors,
        read_mesh_supplementary,
        read_training_aliases,
    )

    kb = LinkingKB(mesh_version)
    labels: Dict[str, str] = {}
    if descriptors is not None:
        for concept, _trees in read_mesh_descriptors(descriptors):
            labels[concept.id] = concept.label
            kb.add_concept(concept)
    if supplementary is not None:
        for concept in read_mesh_supplementary(supplementary, labels):
            kb.add_concept(concept)
    if medic is not None:
        for concept in read_medic(medic):
            kb.add_concept(concept)
    kb.add_training(read_training_aliases(list(training)))
    kb.build_index()
    return kb
