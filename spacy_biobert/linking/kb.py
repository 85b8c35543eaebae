"""The linking knowledge base: concepts, normalized aliases, training priors, n-gram index.

Saved as one file: a JSON header line (``format``, ``format_version``,
``mesh_version``, build report) followed by a msgpack body, so a wrong or truncated
file fails with a message naming it before any lookup.
"""
import json
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import srsly

from ..labels import DISEASE
from .candidates import NgramIndex
from .normalize import normalize, singular, token_key
from .vocab import Concept, PathLike, VocabError

FORMAT = "spacy-biobert-linking-kb"
FORMAT_VERSION = 1
#: Labels with a word-order-free token index (diseases: "pancreatic tumors" is
#: "Neoplasms, Pancreatic"); systematic chemical names gain little from it.
TOKEN_LABELS = (DISEASE,)


class LinkingKB:
    """Concepts with their aliases per label, and mention priors from training data."""

    def __init__(self, mesh_version: str = "unknown") -> None:
        self.mesh_version = mesh_version
        self.ids: List[str] = []
        self.names: List[str] = []
        self.labels: List[str] = []
        self.index_of: Dict[str, int] = {}
        self.alt_ids: Dict[str, str] = {}
        self.aliases: Dict[str, Dict[str, List[int]]] = {}
        self.priors: Dict[str, Dict[str, Dict[str, int]]] = {}
        self.ngrams: Dict[str, NgramIndex] = {}
        self.tokens: Dict[str, Dict[str, List[str]]] = {}
        self._name_keys: Dict[str, str] = {}  # filled on lookup
        self.report: Dict[str, object] = {}

    # building -------------------------------------------------------------------
    def add_concept(self, concept: Concept) -> None:
        """Add a concept (or its names, if its id is known) and all its names as aliases."""
        idx = self.index_of.get(concept.id)
        if idx is None:
            idx = len(self.ids)
            self.index_of[concept.id] = idx
            self.ids.append(concept.id)
            self.names.append(concept.name)
            self.labels.append(concept.label)
        for alt in concept.alt_ids:
            self.alt_ids.setdefault(alt, concept.id)
        table = self.aliases.setdefault(concept.label, {})
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
                    if self.canonical(cid) not in self.index_of:
                        retired[cid] += count
        self.report["training_ids_not_in_vocabulary"] = {
            "mentions": sum(retired.values()), "ids": len(retired),
            "examples": sorted(retired)[:20]}

    def build_index(self, max_key_length: int = 80) -> None:
        """Build the n-gram index of every label's alias keys and training keys."""
        for label in set(self.aliases) | set(self.priors):
            keys = set(self.aliases.get(label, {})) | set(self.priors.get(label, {}))
            self.ngrams[label] = NgramIndex.build(sorted(keys), max_key_length)
            if label in TOKEN_LABELS:
                self.tokens[label] = _token_table(keys)
        self.report["concepts"] = len(self.ids)
        self.report["aliases"] = {lab: len(t) for lab, t in self.aliases.items()}

    # lookup ---------------------------------------------------------------------
    def canonical(self, cid: str) -> str:
        """The KB's id for an equivalent id (MEDIC's OMIM <-> MeSH)."""
        return self.alt_ids.get(cid, cid)

    def name_of(self, cid: str) -> Optional[str]:
        """Preferred name of a concept id, None if the KB does not know it."""
        idx = self.index_of.get(self.canonical(cid))
        return self.names[idx] if idx is not None else None

    def name_key(self, cid: str) -> str:
        """The :func:`~.normalize.token_key` of a concept's preferred name ("" if unknown)."""
        found = self._name_keys.get(cid)
        if found is None:
            name = self.name_of(cid)
            found = self._name_keys[cid] = token_key(normalize(name)) if name else ""
        return found

    def concepts_for(self, label: str, key: str) -> List[str]:
        """Concept ids whose alias is exactly ``key``."""
        return [self.ids[i] for i in self.aliases.get(label, {}).get(key, ())]

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
        return {"format": FORMAT, "format_version": FORMAT_VERSION,
                "mesh_version": self.mesh_version, "report": self.report}

    def to_bytes(self) -> bytes:
        """The KB file's content: header line + msgpack body."""
        body = {"ids": self.ids, "names": self.names, "labels": self.labels,
                "alt_ids": self.alt_ids, "aliases": self.aliases, "priors": self.priors,
                "ngrams": {lab: ix.to_dict() for lab, ix in self.ngrams.items()},
                "tokens": self.tokens}
        data = srsly.msgpack_dumps(body)
        header = dict(self.header(), body_bytes=len(data))
        return json.dumps(header).encode("utf8") + b"\n" + data

    def to_disk(self, path: PathLike) -> None:
        """Write the KB file (header line + msgpack body)."""
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def from_disk(cls, path: PathLike, mesh_version: Optional[str] = None) -> "LinkingKB":
        """Read a KB file; a wrong format, version or truncated body is a VocabError.

        mesh_version (Optional[str]): Require this MeSH version (None = any).
        """
        file = Path(path)
        if not file.is_file():
            raise VocabError("KB file not found: build it with `python -m spacy_biobert "
                             "build-kb`", path=path)
        return cls.from_bytes(file.read_bytes(), mesh_version, source=path)

    @classmethod
    def from_bytes(cls, data: bytes, mesh_version: Optional[str] = None,
                   source: PathLike = "<bytes>") -> "LinkingKB":
        """Inverse of :meth:`to_bytes`; errors name ``source``."""
        header, body = _parse(data, source)
        if mesh_version is not None and header.get("mesh_version") != mesh_version:
            raise VocabError(f"KB built from MeSH {header.get('mesh_version')!r}, "
                             f"expected {mesh_version!r}: rebuild it (build-kb)", path=source)
        kb = cls(str(header.get("mesh_version")))
        kb.report = dict(header.get("report") or {})
        kb.ids, kb.names, kb.labels = body["ids"], body["names"], body["labels"]
        kb.index_of = {cid: i for i, cid in enumerate(kb.ids)}
        kb.alt_ids, kb.aliases, kb.priors = body["alt_ids"], body["aliases"], body["priors"]
        kb.tokens = body.get("tokens", {})
        kb.ngrams = {lab: NgramIndex.from_dict(d) for lab, d in body["ngrams"].items()}
        return kb


def _token_table(keys: Iterable[str]) -> Dict[str, List[str]]:
    """Token key -> the alias keys that have it."""
    table: Dict[str, List[str]] = {}
    for key in sorted(keys):
        tkey = token_key(key)
        if tkey:
            table.setdefault(tkey, []).append(key)
    return table


def read_header(path: PathLike) -> Dict[str, Any]:
    """The JSON header of a KB file (format, MeSH version, build report), body unread.

    RETURNS (Dict[str, Any]): The header; a file that is not a KB is a VocabError.
    """
    with Path(path).open("rb") as handle:
        first = handle.readline()
    try:
        header = json.loads(first.decode("utf8"))
    except (UnicodeDecodeError, ValueError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise VocabError(f"not a linking KB file (format is not {FORMAT!r})", path=path, line=1)
    return header


def _parse(data: bytes, path: PathLike) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    end = data.find(b"\n")
    first = data[:end] if end >= 0 else data
    rest = memoryview(data)[end + 1:] if end >= 0 else memoryview(b"")  # no copy of the body
    try:
        header = json.loads(first.decode("utf8"))
    except (UnicodeDecodeError, ValueError):
        raise VocabError("not a linking KB file (no JSON header line)", path=path,
                         line=1) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise VocabError(f"not a linking KB file (format is not {FORMAT!r})", path=path, line=1)
    if header.get("format_version") != FORMAT_VERSION:
        raise VocabError(f"KB format version {header.get('format_version')!r}, this version of "
                         f"spacy-biobert reads {FORMAT_VERSION}: rebuild it (build-kb)",
                         path=path, line=1)
    if len(rest) != header.get("body_bytes"):
        raise VocabError(f"truncated KB file: {len(rest)} of {header.get('body_bytes')} body "
                         "bytes", path=path)
    try:
        body = srsly.msgpack_loads(rest)  # type: ignore[arg-type]
    except Exception as err:  # msgpack raises several types for damaged data
        raise VocabError(f"damaged KB body: {err}", path=path) from None
    return header, body


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
