"""NER evaluation per corpus and label, on the labels each corpus annotates.

Scores are entity-level with strict span match (character offsets and label must
both agree), as conlleval counts them. A corpus is scored only on its
``doc._.annotated_labels`` (BC2GM says nothing about chemicals, so predicted
chemicals in BC2GM text are neither right nor wrong), on the entities the pipeline
predicts for those labels (:func:`spacy_biobert.ner.scorer.label_view`: ``doc.ents``
and the heads' entities another label displaced from it). ``ents_micro`` scores
``doc.ents`` alone, where one label wins each overlap.
"""
import json
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple, Union

from spacy.scorer import PRFScore
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from .extensions import install_extensions
from .ner.scorer import label_view

SpanKey = Tuple[int, int, str]


def _keys(doc: Doc, labels: Set[str], view: bool = False) -> Set[SpanKey]:
    ents = label_view(doc, labels) if view else doc.ents
    return {(e.start_char, e.end_char, e.label_) for e in ents if e.label_ in labels}


def score_docs(
    predicted: Iterable[Doc], gold: Iterable[Doc], labels: Iterable[str], *,
    view: bool = True,
) -> Dict[str, PRFScore]:
    """Per-label PRFScores of predicted vs gold entities, restricted to ``labels``.

    view (bool): Score the predicted :func:`label_view` of ``labels``; False:
        ``doc.ents`` alone.
    """
    label_set = set(labels)
    scores = {label: PRFScore() for label in sorted(label_set)}
    for pred, ref in zip(predicted, gold):
        if pred.text != ref.text:
            raise ValueError(f"predicted and gold texts differ for document {ref._.doc_id}")
        p_keys, g_keys = _keys(pred, label_set, view), _keys(ref, label_set)
        for label, score in scores.items():
            p = {k for k in p_keys if k[2] == label}
            g = {k for k in g_keys if k[2] == label}
            score.tp += len(p & g)
            score.fp += len(p - g)
            score.fn += len(g - p)
    return scores


def prf_summary(score: PRFScore) -> Dict[str, float]:
    """P, R, F1 (percent, two decimals) and the counts of one PRFScore."""
    return {"p": round(score.precision * 100, 2), "r": round(score.recall * 100, 2),
            "f": round(score.fscore * 100, 2), "tp": score.tp, "fp": score.fp, "fn": score.fn}


def _micro(scores: Iterable[PRFScore]) -> PRFScore:
    total = PRFScore()
    for s in scores:
        total.tp += s.tp
        total.fp += s.fp
        total.fn += s.fn
    return total


def read_gold(path: Union[str, Path], vocab: Vocab, limit: int = 0) -> List[Doc]:
    """The gold docs of one .spacy file (the first ``limit``; 0 = all), with user data."""
    path = Path(path)
    if not path.exists():
        raise OSError(f"{path}: file not found")
    gold = list(DocBin(store_user_data=True).from_disk(path).get_docs(vocab))
    if limit:
        gold = gold[:limit]
    if not gold:
        raise ValueError(f"{path}: no documents")
    return gold


def annotated_labels(docs: Iterable[Doc]) -> Set[str]:
    """The labels the docs annotate (``doc._.annotated_labels``, else their entity labels)."""
    labels: Set[str] = set()
    for doc in docs:
        labels.update(doc._.annotated_labels or {e.label_ for e in doc.ents})
    return labels


def words_only(doc: Doc, vocab: Vocab) -> Doc:
    """The doc's words and spaces, nothing else: what the pipeline is given to predict."""
    return Doc(vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])


def evaluate_corpora(
    model: Union[str, Path, Any], paths: List[Path], *, batch_size: int = 16, limit: int = 0
) -> Dict[str, Any]:
    """Run a pipeline over DocBin files and score its entities per corpus.

    model (Union[str, Path, Language]): A loaded pipeline, or its name or path.
    paths (List[Path]): One .spacy file per corpus (converted by ``convert``).
    limit (int): Score the first N documents of each file (0 = all).
    RETURNS (Dict[str, Any]): ``{"corpora": {name: {"labels": ..., "micro": ...}},
        "micro": ..., "words_per_second": ...}``.
    """
    import spacy

    install_extensions()  # doc._.corpus and doc._.annotated_labels of the stored docs
    nlp = spacy.load(model) if isinstance(model, (str, Path)) else model
    results: Dict[str, Any] = {"corpora": {}}
    all_scores: List[PRFScore] = []
    all_ents: List[PRFScore] = []
    n_words = 0
    seconds = 0.0
    for path in paths:
        path = Path(path)
        gold = read_gold(path, nlp.vocab, limit)
        labels = annotated_labels(gold)
        texts = [words_only(d, nlp.vocab) for d in gold]
        start = time.perf_counter()
        predicted = list(nlp.pipe(texts, batch_size=batch_size))
        seconds += time.perf_counter() - start
        n_words += sum(len(d) for d in gold)
        scores = score_docs(predicted, gold, labels)
        ents = score_docs(predicted, gold, labels, view=False)
        name = gold[0]._.corpus or path.stem
        results["corpora"][name] = {
            "file": str(path),
            "docs": len(gold),
            "labels": {label: prf_summary(s) for label, s in scores.items()},
            "micro": prf_summary(_micro(scores.values())),
            "ents_micro": prf_summary(_micro(ents.values())),
        }
        all_scores.extend(scores.values())
        all_ents.extend(ents.values())
    results["micro"] = prf_summary(_micro(all_scores))
    results["ents_micro"] = prf_summary(_micro(all_ents))
    results["words_per_second"] = round(n_words / seconds, 1) if seconds else None
    return results


def metrics_markdown(metrics: Dict[str, Any]) -> str:
    """A Markdown table of :func:`evaluate_corpora` results."""
    lines = ["| corpus | label | P | R | F1 | F1 `doc.ents` | gold |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for name, corpus in metrics["corpora"].items():
        for label, s in corpus["labels"].items():
            lines.append(f"| {name} | {label} | {s['p']:.2f} | {s['r']:.2f} | {s['f']:.2f} | | "
                         f"{s['tp'] + s['fn']} |")
        lines.append(_micro_row(name, corpus))
    lines.append(_micro_row("**all**", metrics))
    return "\n".join(lines)


def _micro_row(name: str, scores: Dict[str, Any]) -> str:
    m = scores["micro"]
    ents = scores.get("ents_micro")
    ents_f = f"{ents['f']:.2f}" if ents else ""
    return (f"| {name} | **micro** | {m['p']:.2f} | {m['r']:.2f} | **{m['f']:.2f}** | "
            f"{ents_f} | {m['tp'] + m['fn']} |")


def save_metrics(metrics: Dict[str, Any], table: str, output: Optional[Path],
                 markdown: Optional[Path]) -> None:
    """Write metrics as JSON to ``output`` and their Markdown ``table`` to ``markdown``."""
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(metrics, indent=2))
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(table.rstrip("\n") + "\n")
