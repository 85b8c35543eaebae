"""``biobert_entity_linker``: MeSH/OMIM ids for CHEMICAL and DISEASE entities.

For each entity it ranks candidates (:mod:`.ranking`) for its text, or for its long
form when it is a short form (the abbreviation detector's definitions, found by the
detector or, without one in the pipeline, by its matching run here: :mod:`.definitions`;
else ``span._.long_form``): a short form is linked as its long form. A
coordinated mention with no exact alias is linked conjunct by conjunct; mentions of
one document with the same normalized text get one sense (the candidate with the
highest summed score). Output: ``ent.kb_id_`` (first id), ``ent._.kb_ids`` (all ids of
a composite mention), ``ent._.kb_name`` (the first id's preferred name),
``ent._.kb_candidates`` (top k with scores), and no id (NIL) when the best score is
below ``threshold``.
"""
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import srsly
from spacy.language import Language
from spacy.tokens import Doc, Span

from ..extensions import install_extensions, set_kb_candidates, set_kb_ids, set_kb_name
from .composites import split_coordination
from .definitions import defined_short_forms
from .kb import LinkingKB, build_kb
from .normalize import normalize
from .ranking import Ranked, has_alias, order, rank

KB_FILE = "kb.bin"
CACHE_SIZE = 100_000


class EntityLinker:
    """Link entities to a :class:`~.kb.LinkingKB` (see module docs)."""

    def __init__(self, nlp: Language, name: str = "entity_linker", *,
                 labels: Iterable[str] = ("CHEMICAL", "DISEASE"), threshold: float = 0.6,
                 prior_weight: float = 0.5, name_weight: float = 0.2, top_k: int = 5,
                 ngram_k: int = 10, one_sense_per_doc: bool = True, short_forms: bool = True,
                 composites: bool = True, kb_path: Optional[str] = None) -> None:
        """threshold: lowest score that gets an id; prior_weight: weight of the
        training prior; name_weight: bonus of a concept named by the alias itself;
        top_k: candidates kept on the span; ngram_k: n-gram neighbours considered;
        short_forms: link short forms as their long forms, found by the
        abbreviation detector's matching when no detector ran; composites: link the conjuncts of a
        coordinated mention with no exact alias; kb_path: KB file read when the
        component is initialized."""
        install_extensions()
        self.name = name
        self.cfg: Dict[str, Any] = {
            "labels": list(labels), "threshold": threshold, "prior_weight": prior_weight,
            "name_weight": name_weight, "top_k": top_k, "ngram_k": ngram_k,
            "one_sense_per_doc": one_sense_per_doc, "short_forms": short_forms,
            "composites": composites, "kb_path": kb_path}
        self.kb: Optional[LinkingKB] = None
        # repeated mention texts (most of a corpus) are ranked once
        self._cache: Dict[Tuple[Any, ...], Ranked] = {}

    def initialize(self, get_examples: Optional[Callable[[], Iterable[Any]]] = None, *,
                   nlp: Optional[Language] = None, kb_path: Optional[str] = None,
                   descriptors: Optional[str] = None, supplementary: Optional[str] = None,
                   medic: Optional[str] = None, training: Optional[List[str]] = None,
                   mesh_version: str = "unknown") -> None:
        """Read the KB file ``kb_path`` (or the factory's), or build it from vocabularies.

        descriptors / supplementary / medic: MeSH and MEDIC files (see build-kb);
        training: training-split PubTator files for aliases and priors.
        """
        if descriptors or supplementary or medic:
            self.kb = build_kb(descriptors=descriptors, supplementary=supplementary,
                               medic=medic, training=list(training or []),
                               mesh_version=mesh_version)
            return
        path = kb_path or self.cfg.get("kb_path")
        if path:
            if not Path(path).is_file():
                raise ValueError(
                    f"[{self.name}] knowledge base file {path} not found (setting "
                    f"[initialize.components.{self.name}] kb_path, `--paths.kb` in the "
                    "shipped configs): build it with `spacy project run kb` or `python -m "
                    "spacy_biobert build-kb`")
            self.kb = LinkingKB.from_disk(path)
        elif self.kb is None:
            raise ValueError(f"[{self.name}] no knowledge base: set kb_path (a file from "
                             "`python -m spacy_biobert build-kb`) or vocabulary paths in "
                             f"[initialize.components.{self.name}]")

    def _kb(self) -> LinkingKB:
        if self.kb is None:
            if not self.cfg.get("kb_path"):
                raise ValueError(f"[{self.name}] not initialized: no knowledge base loaded")
            self.kb = LinkingKB.from_disk(self.cfg["kb_path"])
        return self.kb

    def rank_span(self, span: Span, defined: Optional[Dict[str, str]] = None) -> Ranked:
        """Ranked candidates of one entity (its long form's, if it has one).

        defined (Optional[Dict[str, str]]): Long forms of the document's short forms
            (:func:`~.definitions.defined_short_forms`); ``span._.long_form`` is used
            for a short form not in it.
        """
        key = normalize(span.text)
        long_form = (defined or {}).get(key)
        if long_form is None and Span.has_extension("long_form"):
            long_form = getattr(span._, "long_form", None)  # e.g. set by scispacy's detector
        if long_form is not None:
            ranked = self._rank(span.label_, normalize(str(long_form)))
            if ranked:
                return ranked
        ranked = self._rank(span.label_, key)
        if self.cfg["composites"] and not has_alias(self._kb(), span.label_, key):
            return self._rank_composite(span.label_, span.text) or ranked
        return ranked

    def _rank_composite(self, label: str, text: str) -> Ranked:
        """One candidate joining the best ids of each conjunct, if each has an exact one."""
        ids: List[str] = []
        scores: List[float] = []
        for part in split_coordination(text):
            best = self._rank(label, normalize(part))
            if not best or best[0][1] < 1.0:
                return []
            ids.extend(i for i in best[0][0].split("|") if i not in ids)
            scores.append(best[0][1])
        return [("|".join(ids), min(scores))] if ids else []

    def _rank(self, label: str, key: str) -> Ranked:
        """:func:`~.ranking.rank` with the component's settings, cached per key."""
        kb, cfg = self._kb(), self.cfg
        cache_key = (id(kb), label, key, cfg["prior_weight"], cfg["name_weight"], cfg["ngram_k"])
        ranked = self._cache.get(cache_key)
        if ranked is None:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            ranked = rank(kb, label, key, prior_weight=cfg["prior_weight"],
                          name_weight=cfg["name_weight"], ngram_k=cfg["ngram_k"])
            self._cache[cache_key] = ranked
        return ranked

    def __call__(self, doc: Doc) -> Doc:
        targets = [e for e in doc.ents if e.label_ in self.cfg["labels"]]
        if not targets:
            return doc
        kb = self._kb()
        defined = (defined_short_forms(doc, targets, lambda lab, key: has_alias(kb, lab, key))
                   if self.cfg["short_forms"] else {})
        ranked = {(e.start, e.end): self.rank_span(e, defined) for e in targets}
        if self.cfg["one_sense_per_doc"]:
            ranked = _one_sense(targets, ranked)
        chosen: Dict[Tuple[int, int], Tuple[str, ...]] = {}
        new_ents: List[Span] = []
        for ent in doc.ents:
            cands = ranked.get((ent.start, ent.end))
            if cands is None:
                new_ents.append(ent)
                continue
            ids: Tuple[str, ...] = ()
            if cands and cands[0][1] >= self.cfg["threshold"]:
                ids = tuple(cands[0][0].split("|"))
            chosen[(ent.start, ent.end)] = ids
            new_ents.append(Span(doc, ent.start, ent.end, label=ent.label,
                                 kb_id=ids[0] if ids else ""))
        doc.ents = new_ents
        for ent in doc.ents:
            key = (ent.start, ent.end)
            if key in chosen:
                set_kb_ids(ent, chosen[key])
                set_kb_candidates(ent, ranked[key][: self.cfg["top_k"]])
                if chosen[key]:
                    set_kb_name(ent, self._kb().name_of(chosen[key][0]))
        return doc

    def to_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", self.cfg)
        if self.kb is not None:
            self.kb.to_disk(path / KB_FILE)

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        return srsly.msgpack_dumps({"cfg": self.cfg,
                                    "kb": self.kb.to_bytes() if self.kb is not None else None})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> "EntityLinker":
        msg = srsly.msgpack_loads(data)
        self.cfg.update(msg["cfg"])
        if msg["kb"] is not None:
            self.kb = LinkingKB.from_bytes(msg["kb"])
        return self

    def from_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> "EntityLinker":
        path = Path(path)
        if (path / "cfg.json").exists():
            self.cfg.update(srsly.read_json(path / "cfg.json"))
        if (path / KB_FILE).exists():
            self.kb = LinkingKB.from_disk(path / KB_FILE)
        return self


def _one_sense(targets: List[Span], ranked: Dict[Tuple[int, int], Ranked]
               ) -> Dict[Tuple[int, int], Ranked]:
    """Give mentions with the same label and normalized text the same ranking."""
    groups: Dict[Tuple[str, str], List[Tuple[int, int]]] = {}
    for ent in targets:
        groups.setdefault((ent.label_, normalize(ent.text)), []).append((ent.start, ent.end))
    out = dict(ranked)
    for (label, _key), members in groups.items():
        if len(members) < 2:
            continue
        summed: Dict[str, float] = {}
        for member in members:
            for ids, score in ranked[member]:
                summed[ids] = summed.get(ids, 0.0) + score / len(members)
        merged = sorted(summed.items(), key=lambda item: order(item, label))
        for member in members:
            out[member] = merged
    return out


@Language.factory(
    "biobert_entity_linker",
    assigns=["token.ent_kb_id", "span._.kb_ids", "span._.kb_candidates", "span._.kb_name"],
    default_config={"labels": ["CHEMICAL", "DISEASE"], "threshold": 0.6,
                    "prior_weight": 0.5, "name_weight": 0.2, "top_k": 5, "ngram_k": 10,
                    "one_sense_per_doc": True, "short_forms": True, "composites": True,
                    "kb_path": None},
)
def make_entity_linker(nlp: Language, name: str, labels: List[str], threshold: float,
                       prior_weight: float, name_weight: float, top_k: int, ngram_k: int,
                       one_sense_per_doc: bool, short_forms: bool, composites: bool,
                       kb_path: Optional[str]) -> EntityLinker:
    """Factory of the entity linker (see module docs)."""
    return EntityLinker(nlp, name, labels=labels, threshold=threshold,
                        prior_weight=prior_weight, name_weight=name_weight, top_k=top_k,
                        ngram_k=ngram_k, one_sense_per_doc=one_sense_per_doc,
                        short_forms=short_forms, composites=composites, kb_path=kb_path)
