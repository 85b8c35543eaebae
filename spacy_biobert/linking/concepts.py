"""Document-level concept scores: the BioCreative V DNER measure, per label.

Per document, the set of (label, id) of the predicted entities (NER, then the entity
linker: ``span._.kb_ids``, NIL mentions contribute nothing) is compared with the set of
the gold mentions' ids (``doc.spans["mentions"]``, overlapping mentions included).
Precision, recall and F1 are micro-averaged over documents, so a concept named ten
times in an abstract counts once: what a curator or a knowledge graph receives.

Each wrong or missed (document, id) is put down to one cause: ``linking`` when a
predicted entity of the label has exactly the span of a gold mention (the mention was
found, its id is wrong), else ``boundary`` when one overlaps a gold mention, else
``entity`` (a predicted entity where no gold mention is, or a gold mention no predicted
entity touches): what better linking, and what better NER, would gain.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Set, Tuple

from spacy.tokens import Doc, Span

from ..extensions import get_kb_ids
from ..relations.scorer import prf
from .ids import LINKED_LABELS


def doc_concepts(spans: Iterable[Span]) -> Set[Tuple[str, str]]:
    """The (label, id) pairs named by ``spans`` (CHEMICAL and DISEASE only)."""
    return {(span.label_, cid) for span in spans if span.label_ in LINKED_LABELS
            for cid in get_kb_ids(span)}


def gold_spans(doc: Doc) -> List[Span]:
    """Every gold mention of a converted Doc (``doc.spans["mentions"]``, else ents)."""
    return list(doc.spans["mentions"]) if "mentions" in doc.spans else list(doc.ents)


#: Causes of a wrong or missed (document, id), see the module docs.
CAUSES = ("entity", "boundary", "linking")
Offsets = Tuple[int, int]


@dataclass
class ConceptCounts:
    """True positives, predictions and gold (document, id) pairs per label, and the
    causes of the errors."""

    counts: Dict[str, List[int]] = field(default_factory=dict)
    errors: Dict[str, Dict[str, Dict[str, int]]] = field(default_factory=dict)

    def add(self, gold: Doc, predicted: Doc) -> None:
        """Count one document: ``gold`` (converted, with ids) and its prediction."""
        golds, found = gold_spans(gold), list(predicted.ents)
        want, got = doc_concepts(golds), doc_concepts(found)
        for label in {lab for lab, _ in want | got}:
            w = {c for c in want if c[0] == label}
            g = {c for c in got if c[0] == label}
            row = self.counts.setdefault(label, [0, 0, 0])
            row[0] += len(w & g)
            row[1] += len(g)
            row[2] += len(w)
            gold_at = _offsets(golds, label)
            found_at = _offsets(found, label)
            errors = self.errors.setdefault(label, {"fp": dict.fromkeys(CAUSES, 0),
                                                    "fn": dict.fromkeys(CAUSES, 0)})
            for _, cid in g - w:
                errors["fp"][_cause(found_at.get(cid, []), gold_at)] += 1
            for _, cid in w - g:
                errors["fn"][_cause(gold_at.get(cid, []), found_at)] += 1

    def to_dict(self) -> Dict[str, Any]:
        """Per label and micro P/R/F1 (0-1) with their counts; per label also
        ``errors``: wrong (``fp``) and missed (``fn``) pairs by cause."""
        out: Dict[str, Any] = {label: _prf(*row) for label, row in sorted(self.counts.items())}
        for label, errors in self.errors.items():
            out[label]["errors"] = errors
        out["micro"] = _prf(*(sum(row[i] for row in self.counts.values()) for i in range(3)))
        return out


def _offsets(spans: Iterable[Span], label: str) -> Dict[str, List[Offsets]]:
    """Character offsets of the spans of ``label`` naming each id; every span under
    the key "" too."""
    out: Dict[str, List[Offsets]] = {"": []}
    for span in spans:
        if span.label_ == label:
            at = (span.start_char, span.end_char)
            out[""].append(at)
            for cid in get_kb_ids(span):
                out.setdefault(cid, []).append(at)
    return out


def _cause(mentions: List[Offsets], others: Dict[str, List[Offsets]]) -> str:
    """Why the mentions of one wrong or missed id are so (see the module docs):
    ``others`` are the spans of the other side, all of them under the key ""."""
    if any(m in others[""] for m in mentions):
        return "linking"
    if any(s < end and start < e for s, e in mentions for start, end in others[""]):
        return "boundary"
    return "entity"


def _prf(tp: int, n_pred: int, n_gold: int) -> Dict[str, float]:
    return dict(prf(tp, n_pred, tp, n_gold), tp=tp, predicted=n_pred, gold=n_gold)
