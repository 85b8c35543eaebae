"""Score the detector on definitions derived from annotated corpora (:mod:`.gold`).

A found definition is correct when its short and long form match a gold pair exactly
(character offsets). Only found definitions the annotation can judge are scored: those
whose short form is a gold short form, or whose short form and long form are both
annotated mentions, the long form with a concept id. The others are counted as
``unjudged``: ``blood pressure (BP)`` in a corpus that annotates chemicals and diseases,
``heparin-induced thrombocytopenia (HIT)`` where only *thrombocytopenia* is annotated, or
``phenobarbital (PB)`` where the short form was left unannotated. ``same_end`` also
accepts a long form that ends where the gold one does but starts elsewhere.
"""
from typing import Any, Dict, List, Sequence, Set, Tuple

from spacy.scorer import PRFScore

from ..corpora.base import PathLike, RawDocument
from .detector import DEFAULT_MIN_RELIABILITY, Definition, find_definitions
from .gold import GoldPair, load_gold


def _judged(raw: RawDocument, found: Definition, gold_shorts: Set[Tuple[int, int]]) -> bool:
    """Whether the annotation states this definition right or wrong: its short form is a
    gold short form, or both forms are annotated mentions and the long form has a concept
    id (a short form left unannotated, or mentions without ids, say nothing)."""
    if found.short in gold_shorts:
        return True
    spans = {(m.start, m.end) for m in raw.mentions}
    return found.short in spans and any((m.start, m.end) == found.long and m.ids
                                        for m in raw.mentions)


def _example(raw: RawDocument, short: Tuple[int, int], long: Tuple[int, int]) -> str:
    text = raw.text
    return f"{raw.doc_id}: {text[long[0]:long[1]]!r} ({text[short[0]:short[1]]!r})"


def _percents(score: PRFScore) -> Dict[str, float]:
    return {"precision": round(100 * score.precision, 2),
            "recall": round(100 * score.recall, 2), "f1": round(100 * score.fscore, 2)}


def score_documents(
    docs: Sequence[Tuple[RawDocument, List[GoldPair]]],
    *, min_reliability: float = DEFAULT_MIN_RELIABILITY, examples: int = 20,
) -> Dict[str, Any]:
    """Precision, recall and F1 of the detector on documents with gold pairs.

    docs: Documents and their gold pairs.
    min_reliability (float): The detector's threshold.
    examples (int): How many misses and wrong definitions to list.
    RETURNS (Dict[str, Any]): Scores (percent), counts and examples.
    """
    prf, lenient = PRFScore(), PRFScore()
    unjudged = 0
    misses: List[str] = []
    wrong: List[str] = []
    for raw, gold in docs:
        expected = {(g.short, g.long) for g in gold}
        found = find_definitions(raw.text, min_reliability=min_reliability)
        ends = {(g.short, g.long[1]): g.long for g in gold}
        got, got_end = set(), set()
        for definition in found:
            key = (definition.short, definition.long)
            end_key = (definition.short, definition.long[1])
            if key in expected:
                prf.tp += 1
                got.add(key)
            elif _judged(raw, definition, {g.short for g in gold}):
                prf.fp += 1
                wrong.append(_example(raw, *key))
            else:
                unjudged += 1
                continue
            if end_key in ends:
                lenient.tp += 1
                got_end.add(end_key)
            else:
                lenient.fp += 1
        for key in sorted(expected - got):
            prf.fn += 1
            misses.append(_example(raw, *key))
        lenient.fn += len(set(ends) - got_end)
    return {
        **_percents(prf),
        "gold_pairs": prf.tp + prf.fn, "true_positives": prf.tp,
        "false_positives": prf.fp, "false_negatives": prf.fn, "unjudged": unjudged,
        "documents": len(docs), "min_reliability": min_reliability,
        # Same short form, long forms ending at the same character (their starts differ:
        # "X-linked adrenoleukodystrophy" annotated, "adrenoleukodystrophy" found).
        "same_end": _percents(lenient),
        "wrong": wrong[:examples], "missed": misses[:examples],
    }


def evaluate_abbreviations(
    paths: Sequence[PathLike], *, min_reliability: float = DEFAULT_MIN_RELIABILITY,
    examples: int = 20,
) -> Dict[str, Any]:
    """:func:`score_documents` on PubTator files, all together and per file."""
    per_file = {}
    everything: List[Tuple[RawDocument, List[GoldPair]]] = []
    for path in paths:
        docs = load_gold([path])
        everything.extend(docs)
        per_file[str(path)] = score_documents(docs, min_reliability=min_reliability,
                                              examples=0)
    metrics = score_documents(everything, min_reliability=min_reliability, examples=examples)
    metrics["files"] = per_file
    return metrics
