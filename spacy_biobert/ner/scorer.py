"""NER scores that respect partial annotation.

A BC2GM document annotates genes only: a chemical predicted in it is neither right
nor wrong. Each example is scored only on the labels its reference Doc's corpus
annotates (``doc._.annotated_labels``; all labels when unset), with strict span
match, like spaCy's ``spacy.ner_scorer.v1`` otherwise, and on the entities the
pipeline predicts for those labels (:func:`label_view`).
"""
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

from spacy.scorer import PRFScore
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import registry

from .component import HEAD_SPANS_KEY


def label_view(doc: Doc, labels: Optional[Set[str]] = None,
               spans_key: str = HEAD_SPANS_KEY) -> List[Span]:
    """The entities of ``labels`` (None = all) as if no other label were predicted.

    ``doc.ents`` of those labels, and the heads' own entities of those labels
    (``doc.spans[spans_key]``) that an entity of another label had displaced from
    ``doc.ents`` (the earlier of two overlapping head entities wins, as there).
    """
    ents = [e for e in doc.ents if labels is None or e.label_ in labels]
    if labels is None or spans_key not in doc.spans:
        return ents
    taken = {i for e in ents for i in range(e.start, e.end)}
    for span in doc.spans[spans_key]:
        if span.label_ in labels and not taken.intersection(range(span.start, span.end)):
            ents.append(span)
            taken.update(range(span.start, span.end))
    return sorted(ents, key=lambda e: (e.start, e.end))


def score_partial_ner(examples: Iterable[Example], **kwargs: Any) -> Dict[str, Any]:
    """Micro and per-type P/R/F over the labels each example's corpus annotates.

    examples (Iterable[Example]): Predicted and reference docs.
    RETURNS (Dict[str, Any]): ``ents_p``, ``ents_r``, ``ents_f``, ``ents_per_type``.
    """
    per_type: Dict[str, PRFScore] = defaultdict(PRFScore)
    for eg in examples:
        if not eg.y.has_annotation("ENT_IOB"):
            continue
        annotated = eg.y._.annotated_labels if eg.y.has_extension("annotated_labels") else None
        scored = set(annotated) if annotated else None
        golds = {(e.label_, e.start, e.end) for e in eg.y.ents
                 if scored is None or e.label_ in scored}
        x2y = eg.alignment.x2y
        for ent in label_view(eg.x, scored):
            indices = x2y[ent.start:ent.end]
            if not len(indices):
                per_type[ent.label_].fp += 1
                continue
            key = (ent.label_, int(indices[0]), int(indices[-1]) + 1)
            if key in golds:
                per_type[ent.label_].tp += 1
                golds.remove(key)
            else:
                per_type[ent.label_].fp += 1
        for label, _, _ in golds:
            per_type[label].fn += 1
    totals = PRFScore()
    for prf in per_type.values():
        totals += prf
    if len(totals) == 0:
        return {"ents_p": None, "ents_r": None, "ents_f": None, "ents_per_type": None}
    return {
        "ents_p": totals.precision,
        "ents_r": totals.recall,
        "ents_f": totals.fscore,
        "ents_per_type": {k: v.to_dict() for k, v in sorted(per_type.items())},
    }


@registry.scorers("spacy-biobert.partial_ner_scorer.v1")
def make_partial_ner_scorer() -> Callable[..., Dict[str, Any]]:
    """Registered scorer for NER heads trained on partially annotated corpora."""
    return score_partial_ner
