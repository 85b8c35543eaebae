"""Document-level relation scores (the BioCreative V CID measure and its end-to-end form).

Per document, the predicted entity pairs (``doc._.entity_relations`` with
``score >= threshold``, plus the ``min_per_doc`` best-scored ones per label) are
compared with the gold ones:

- with gold entities as input, entity keys are normalized ids (MeSH) on both sides:
  the official CID measure;
- with predicted entities (no ids), a predicted key is ``text:<normalized text>``;
  it matches a gold id when some gold mention of that id has that normalized text.

A predicted pair is a true positive when it matches a gold pair; recall counts the
gold pairs matched by at least one predicted pair. Only documents whose gold
carries relation annotations are scored.
"""
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Set, Tuple

from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from ..extensions import install_extensions
from .candidates import mention_ids
from .component import gold_entity_pairs, has_relation_annotation
from .items import select_entity_relations, text_key

Pair = Tuple[str, str]


def gold_entity_texts(doc: Doc) -> Dict[str, Set[str]]:
    """Gold id -> the ``text:`` keys of its mentions in a gold Doc."""
    spans = list(doc.spans["mentions"]) if "mentions" in doc.spans else list(doc.ents)
    out: Dict[str, Set[str]] = {}
    for span in spans:
        text = text_key(span)
        for key in mention_ids(span):
            out.setdefault(key, {key}).add(text)
    return out


def pair_matches(pred: Pair, gold: Pair, texts: Dict[str, Set[str]]) -> bool:
    """Whether a predicted entity pair names the gold pair (by id or by text)."""
    return all(p == g or p in texts.get(g, ()) for p, g in zip(pred, gold))


def match_pairs(
    predicted: Iterable[Pair], gold: Iterable[Pair], texts: Dict[str, Set[str]]
) -> Tuple[Set[Pair], Set[Pair]]:
    """(predicted pairs that match a gold pair, gold pairs matched by a prediction)."""
    gold = set(gold)
    good: Set[Pair] = set()
    found: Set[Pair] = set()
    for pred in set(predicted):
        hits = {g for g in gold if pair_matches(pred, g, texts)}
        if hits:
            good.add(pred)
            found |= hits
    return good, found


def prf(tp_pred: int, n_pred: int, found: int, n_gold: int) -> Dict[str, float]:
    """Precision, recall, F1 (0 when undefined)."""
    p = tp_pred / n_pred if n_pred else 0.0
    r = found / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f": f}


def score_relations(
    examples: Iterable[Example],
    *,
    threshold: float = 0.5,
    min_per_doc: int = 0,
    labels: Optional[Sequence[str]] = None,
    **_: Any,
) -> Dict[str, Any]:
    """Scores for ``spacy train``/``spacy evaluate``.

    RETURNS (Dict[str, Any]): ``rel_micro_p/r/f`` and ``rel_per_type`` (label ->
        p/r/f), document-level entity pairs (see module docs).
    """
    counts: Dict[str, list] = {}
    for eg in examples:
        if not has_relation_annotation(eg.reference):
            continue
        gold = gold_entity_pairs(eg.reference)
        texts = gold_entity_texts(eg.reference)
        predicted: Dict[str, Set[Pair]] = {}
        for rel in select_entity_relations(eg.predicted._.entity_relations, threshold,
                                           min_per_doc):
            predicted.setdefault(rel.label, set()).add((rel.head_id, rel.tail_id))
        for label in set(gold) | set(predicted) | set(labels or ()):
            good, found = match_pairs(predicted.get(label, ()), gold.get(label, ()), texts)
            c = counts.setdefault(label, [0, 0, 0, 0])
            c[0] += len(good)
            c[1] += len(predicted.get(label, ()))
            c[2] += len(found)
            c[3] += len(gold.get(label, ()))
    totals = [sum(c[i] for c in counts.values()) for i in range(4)]
    micro = prf(*totals)
    return {
        "rel_micro_p": micro["p"],
        "rel_micro_r": micro["r"],
        "rel_micro_f": micro["f"],
        "rel_per_type": {label: prf(*c) for label, c in sorted(counts.items())},
    }


@registry.scorers("spacy-biobert.relation_scorer.v1")
def make_relation_scorer() -> Callable[..., Dict[str, Any]]:
    """The relation extractor's scorer: document-level entity pairs (see module docs)."""
    install_extensions()
    return score_relations
