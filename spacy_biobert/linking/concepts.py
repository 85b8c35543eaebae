"""Document-level concept scores: the BioCreative V DNER measure, per label.

Per document, the set of (label, id) of the predicted entities (NER, then the entity
linker: ``span._.kb_ids``, NIL mentions contribute nothing) is compared with the set of
the gold mentions' ids (``doc.spans["mentions"]``, overlapping mentions included).
Precision, recall and F1 are micro-averaged over documents, so a concept named ten
times in an abstract counts once: what a curator or a knowledge graph receives.
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


@dataclass
class ConceptCounts:
    """True positives, predictions and gold (document, id) pairs per label."""

    counts: Dict[str, List[int]] = field(default_factory=dict)

    def add(self, gold: Doc, predicted: Doc) -> None:
        """Count one document: ``gold`` (converted, with ids) and its prediction."""
        want = doc_concepts(gold_spans(gold))
        got = doc_concepts(predicted.ents)
        for label in {lab for lab, _ in want | got}:
            w = {c for c in want if c[0] == label}
            g = {c for c in got if c[0] == label}
            row = self.counts.setdefault(label, [0, 0, 0])
            row[0] += len(w & g)
            row[1] += len(g)
            row[2] += len(w)

    def to_dict(self) -> Dict[str, Any]:
        """Per label and micro P/R/F1 (0-1) with their counts."""
        out: Dict[str, Any] = {label: _prf(*row) for label, row in sorted(self.counts.items())}
        out["micro"] = _prf(*(sum(row[i] for row in self.counts.values()) for i in range(3)))
        return out


def _prf(tp: int, n_pred: int, n_gold: int) -> Dict[str, float]:
    return dict(prf(tp, n_pred, tp, n_gold), tp=tp, predicted=n_pred, gold=n_gold)
