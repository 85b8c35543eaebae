"""Relation evaluation: CID P/R/F1, mention pairs, ROC/PR, threshold sweep, k-fold CV.

Two ways to feed entities to the relation extractor:

- ``gold``: the gold entities of each document (with their MeSH ids) go straight to
  the transformer and the relation extractor (the other pipes are disabled): the
  official BioCreative V CID measure, per document (chemical id, disease id) pairs;
- ``predicted``: the whole pipeline runs on the document's words (NER, the entity
  linker, then relations): end to end. ``cid`` lets an entity the linker left NIL
  (keyed by normalized text) match a gold id through the texts of its gold mentions
  (see :mod:`spacy_biobert.relations.scorer`); ``cid_ids`` matches ids only and
  counts only pairs with an id on both sides (a pair with a NIL entity names no
  concept pair), the official BioCreative V measure from raw text; ``concepts`` is
  the document-level (document, id) P/R/F1 of the linked entities per label,
  BioCreative V's DNER measure for diseases (:mod:`spacy_biobert.linking.concepts`).

The extractor runs with ``store_all_candidates`` on, so every candidate has a score:
ROC-AUC and PR-AUC (scikit-learn) are computed over all candidate entity pairs and
all candidate mention pairs. Gold entity pairs that are no candidate count as false
negatives in P/R/F1 (and are reported), but cannot enter the curves.

A mention pair is correct when both its spans match (character offsets) a mention
pair supporting a gold relation.
"""
import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from ..evaluation import words_only
from ..extensions import install_extensions
from ..extras import require
from ..linking.concepts import CAUSES, ConceptCounts
from .component import (
    CAPPED_KEY,
    RelationExtractor,
    check_min_per_doc,
    gold_entity_pairs,
    has_relation_annotation,
)
from .items import ENTITY_RELATIONS_KEY, RELATIONS_KEY, TEXT_PREFIX, score_ranks
from .scorer import gold_entity_texts, pair_matches

logger = logging.getLogger(__name__)

MODES = ("gold", "predicted")
THRESHOLDS = numpy.round(numpy.arange(0.01, 1.0, 0.01), 2)

MentionKey = Tuple[int, int, int, int, str]


@dataclass
class Collected:
    """Scores of every candidate, and what the gold says about each."""

    entity_scores: List[float] = field(default_factory=list)
    entity_gold: List[int] = field(default_factory=list)
    #: Rank of each entity pair's score among its document's pairs of its label (0: best).
    entity_rank: List[int] = field(default_factory=list)
    #: Indices (into ``entity_scores``) of the predictions matching each gold entity pair
    #: (empty: the pair is no candidate).
    gold_matches: List[List[int]] = field(default_factory=list)
    #: The same two, matching by id only (no text fallback for NIL entities).
    entity_gold_ids: List[int] = field(default_factory=list)
    #: 1 for an entity pair with an id on both sides (no NIL entity), else 0.
    entity_linked: List[int] = field(default_factory=list)
    gold_matches_ids: List[List[int]] = field(default_factory=list)
    concepts: ConceptCounts = field(default_factory=ConceptCounts)
    mention_scores: List[float] = field(default_factory=list)
    mention_gold: List[int] = field(default_factory=list)
    n_gold_mention_pairs: int = 0
    docs: int = 0
    capped_docs: int = 0
    capped_pairs: int = 0


def find_relation_extractor(
    nlp: Language, name: Optional[str] = None
) -> Tuple[str, RelationExtractor]:
    """The (name, component) of the pipeline's relation extractor."""
    for pipe_name, pipe in nlp.pipeline:
        if isinstance(pipe, RelationExtractor) and (name is None or pipe_name == name):
            return pipe_name, pipe
    raise ValueError(f"the pipeline {nlp.meta.get('name', '')!r} has no relation extractor"
                     + (f" named {name!r}" if name else "")
                     + f" (pipes: {', '.join(nlp.pipe_names)})")


def read_gold_docs(nlp: Language, paths: Sequence[Path], limit: int = 0) -> List[Doc]:
    """Documents with relation annotations from .spacy files (others are skipped); with
    ``limit``, the first N of them in each file."""
    install_extensions()
    docs: List[Doc] = []
    for path in paths:
        if not Path(path).exists():
            raise ValueError(f"no such file: {path}")
        found = [d for d in DocBin().from_disk(path).get_docs(nlp.vocab)
                 if has_relation_annotation(d)]
        if not found:
            logger.warning("%s: no document with relation annotations; skipped", path)
        docs.extend(found[:limit] if limit else found)
    if not docs:
        raise ValueError(f"no document with relation annotations in {', '.join(map(str, paths))}")
    return docs


def _input_doc(nlp: Language, gold: Doc, mode: str) -> Doc:
    if mode == "gold":
        doc = Doc(nlp.vocab).from_bytes(gold.to_bytes())
        doc.user_data.pop(RELATIONS_KEY, None)
        doc.user_data.pop(ENTITY_RELATIONS_KEY, None)
        return doc
    # The words only, as the pipeline would tokenize the text: no entities, no
    # sentences (training saw none either).
    return words_only(gold, nlp.vocab)


def _mention_key(head: Any, tail: Any, label: str) -> MentionKey:
    return (head.start_char, head.end_char, tail.start_char, tail.end_char, label)


def collect(
    nlp: Language, golds: Sequence[Doc], mode: str, *, batch_size: int = 8,
    component: Optional[str] = None,
) -> Collected:
    """Run the pipeline on ``golds`` (see module docs) and collect candidate scores."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    name, rel = find_relation_extractor(nlp, component)
    store_all = rel.cfg["store_all_candidates"]
    rel.cfg["store_all_candidates"] = True
    if mode == "gold":
        upstream = {n for n, p in nlp.pipeline if p.__class__.__name__ == "Transformer"}
        enable = [n for n in nlp.pipe_names if n in upstream or n == name]
    else:
        enable = list(nlp.pipe_names)
    out = Collected()
    try:
        with nlp.select_pipes(enable=enable):
            inputs = (_input_doc(nlp, g, mode) for g in golds)
            for gold, doc in zip(golds, nlp.pipe(inputs, batch_size=batch_size)):
                _collect_doc(gold, doc, rel, out)
    finally:
        rel.cfg["store_all_candidates"] = store_all
    return out


def _collect_doc(gold: Doc, doc: Doc, rel: RelationExtractor, out: Collected) -> None:
    out.docs += 1
    capped = int(doc.user_data.get(CAPPED_KEY, 0))
    out.capped_docs += 1 if capped else 0
    out.capped_pairs += capped
    gold_pairs = gold_entity_pairs(gold)
    texts = gold_entity_texts(gold)
    gold_mentions: Set[MentionKey] = set()
    for grel in gold._.entity_relations:
        gold_mentions.update(_mention_key(h, t, grel.label) for h, t in grel.mentions)
    for mrel in gold._.relations:
        gold_mentions.add(_mention_key(mrel.head, mrel.tail, mrel.label))
    out.n_gold_mention_pairs += len(gold_mentions)
    out.concepts.add(gold, doc)
    for by_text, gold_flags, gold_matches in ((texts, out.entity_gold, out.gold_matches),
                                              ({}, out.entity_gold_ids, out.gold_matches_ids)):
        matches: Dict[Tuple[str, Tuple[str, str]], List[int]] = {
            (label, pair): [] for label, pairs in gold_pairs.items() for pair in pairs}
        for i, prel in enumerate(doc._.entity_relations):
            hits = [(prel.label, g) for g in gold_pairs.get(prel.label, ())
                    if pair_matches((prel.head_id, prel.tail_id), g, by_text)]
            for key in hits:
                matches[key].append(len(out.entity_scores) + i)
            gold_flags.append(1 if hits else 0)
        gold_matches.extend(matches.values())
    predicted = list(doc._.entity_relations)
    out.entity_scores.extend(prel.score for prel in predicted)
    out.entity_linked.extend(int(not (prel.head_id.startswith(TEXT_PREFIX)
                                      or prel.tail_id.startswith(TEXT_PREFIX)))
                             for prel in predicted)
    out.entity_rank.extend(score_ranks(predicted))
    for mrel in doc._.relations:
        out.mention_scores.append(mrel.score)
        out.mention_gold.append(1 if _mention_key(mrel.head, mrel.tail, mrel.label)
                                in gold_mentions else 0)


def _prf(tp: int, n_pred: int, found: int, n_gold: int) -> Dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = found / n_gold if n_gold else 0.0
    return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0,
            "tp": tp, "predicted": n_pred, "gold": n_gold}


def entity_prf(c: Collected, threshold: float, min_per_doc: int = 0,
               ids_only: bool = False) -> Dict[str, float]:
    """Document-level entity-pair (CID) P/R/F1 at a threshold (and with each document's
    ``min_per_doc`` best pairs per label reported, as the component does); ``ids_only``:
    pairs match by id only, and pairs with a NIL entity are not counted (see module
    docs)."""
    scores = numpy.asarray(c.entity_scores)
    gold = numpy.asarray(c.entity_gold_ids if ids_only else c.entity_gold, dtype=bool)
    gold_matches = c.gold_matches_ids if ids_only else c.gold_matches
    chosen = scores >= threshold
    if min_per_doc > 0:
        chosen |= numpy.asarray(c.entity_rank) < min_per_doc
    if ids_only:
        chosen &= numpy.asarray(c.entity_linked, dtype=bool)
    found = sum(1 for m in gold_matches if any(chosen[i] for i in m))
    return _prf(int((chosen & gold).sum()), int(chosen.sum()), found, len(gold_matches))


def mention_prf(c: Collected, threshold: float) -> Dict[str, float]:
    """Mention-pair P/R/F1 at a threshold."""
    scores = numpy.asarray(c.mention_scores)
    gold = numpy.asarray(c.mention_gold, dtype=bool)
    chosen = scores >= threshold
    tp = int((chosen & gold).sum())
    return _prf(tp, int(chosen.sum()), tp, c.n_gold_mention_pairs)


def _auc(y: Sequence[int], s: Sequence[float]) -> Dict[str, Optional[float]]:
    metrics = require("sklearn.metrics", "eval", "ROC-AUC and PR-AUC of relations")

    if len(set(y)) < 2:  # undefined with one class only
        return {"roc_auc": None, "pr_auc": None}
    return {"roc_auc": float(metrics.roc_auc_score(y, s)),
            "pr_auc": float(metrics.average_precision_score(y, s))}


def sweep(c: Collected, min_per_doc: int = 0) -> Dict[str, Any]:
    """F1 at thresholds 0.01 … 0.99 for entity pairs (CID, with ``min_per_doc``) and,
    separately, for mention pairs; the best of each (ties: lowest threshold)."""
    rows = [(float(t), entity_prf(c, float(t), min_per_doc)["f"]) for t in THRESHOLDS]
    best_t, best_f = max(rows, key=lambda r: (r[1], -r[0]))
    mention_rows = [(float(t), mention_prf(c, float(t))["f"]) for t in THRESHOLDS]
    best_mt, best_mf = max(mention_rows, key=lambda r: (r[1], -r[0]))
    return {"best_threshold": best_t, "best_f": best_f,
            "best_mention_threshold": best_mt, "best_mention_f": best_mf,
            "curve": [{"threshold": t, "f": f, "mention_f": mf}
                      for (t, f), (_, mf) in zip(rows, mention_rows)]}


def summarize(c: Collected, threshold: float,
              mention_threshold: Optional[float] = None, min_per_doc: int = 0) -> Dict[str, Any]:
    """All figures of one mode at its thresholds (entity pairs, mention pairs)."""
    mention_threshold = threshold if mention_threshold is None else mention_threshold
    return {
        "threshold": threshold,
        "mention_threshold": mention_threshold,
        "min_per_doc": min_per_doc,
        "documents": c.docs,
        "cid": entity_prf(c, threshold, min_per_doc),
        "cid_ids": entity_prf(c, threshold, min_per_doc, ids_only=True),
        "concepts": c.concepts.to_dict(),
        "mention_pairs": mention_prf(c, mention_threshold),
        "entity_candidates": {"count": len(c.entity_scores), "positive": int(sum(c.entity_gold)),
                              "gold_pairs": len(c.gold_matches),
                              "gold_pairs_not_candidates": sum(1 for m in c.gold_matches
                                                               if not m)},
        "mention_candidates": {"count": len(c.mention_scores),
                               "positive": int(sum(c.mention_gold)),
                               "gold_pairs": c.n_gold_mention_pairs},
        "entity_curves": _auc(c.entity_gold, c.entity_scores),
        "mention_curves": _auc(c.mention_gold, c.mention_scores),
        "capped": {"documents": c.capped_docs, "pairs": c.capped_pairs},
    }


def save_curves(
    results: Dict[str, Collected], output_dir: Path, prefix: str = "relations"
) -> List[Path]:
    """ROC and PR curves (entity pairs and mention pairs, each mode) as PNG files."""
    matplotlib = require("matplotlib", "eval", "relation curves (--curves)")
    matplotlib.use("Agg")
    plt = require("matplotlib.pyplot", "eval", "relation curves (--curves)")
    metrics = require("sklearn.metrics", "eval", "relation curves (--curves)")

    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in ("roc", "pr"):
        fig, ax = plt.subplots(figsize=(5, 5))
        for mode, c in results.items():
            for level, y, s in (("entity pairs", c.entity_gold, c.entity_scores),
                                ("mention pairs", c.mention_gold, c.mention_scores)):
                if len(set(y)) < 2:
                    continue
                if kind == "roc":
                    x_axis, y_axis, _ = metrics.roc_curve(y, s)
                else:
                    y_axis, x_axis, _ = metrics.precision_recall_curve(y, s)
                ax.plot(x_axis, y_axis, label=f"{mode} entities, {level}")
        if kind == "roc":
            ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
            ax.set_xlabel("false positive rate")
            ax.set_ylabel("true positive rate")
            ax.set_title("Relation candidates: ROC")
        else:
            ax.set_xlabel("recall")
            ax.set_ylabel("precision")
            ax.set_title("Relation candidates: precision-recall")
        ax.legend(loc="best", fontsize="small")
        path = output_dir / f"{prefix}_{kind}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


def evaluate_relations(
    nlp: Language,
    paths: Sequence[Path],
    *,
    modes: Iterable[str] = MODES,
    do_sweep: bool = False,
    batch_size: int = 8,
    component: Optional[str] = None,
    min_per_doc: Optional[int] = None,
    limit: int = 0,
) -> Tuple[Dict[str, Any], Dict[str, Collected]]:
    """Evaluate the relation extractor of ``nlp`` on .spacy files (see module docs).

    With ``do_sweep`` the thresholds with the best CID F1 and the best mention-pair
    F1 are chosen on the first mode (``gold`` when it is evaluated) and every mode is
    also scored at them. ``min_per_doc`` replaces the component's setting (None: keep it);
    ``limit`` scores the first N documents of each file (0 = all).
    RETURNS (Tuple[dict, dict]): The metrics and the collected scores per mode.
    """
    _, rel = find_relation_extractor(nlp, component)
    k = rel.min_per_doc if min_per_doc is None else check_min_per_doc(min_per_doc, rel.name)
    golds = read_gold_docs(nlp, paths, limit)
    collected = {m: collect(nlp, golds, m, batch_size=batch_size, component=component)
                 for m in modes}
    metrics: Dict[str, Any] = {"data": [str(p) for p in paths], "component_threshold":
                               rel.threshold, "min_per_doc": k, "labels": list(rel.labels)}
    for mode, c in collected.items():
        metrics[mode] = summarize(c, rel.threshold, rel.mention_threshold, k)
        if mode == "gold":  # the gold entities' own ids: nothing to score
            del metrics[mode]["concepts"]
    if do_sweep and collected:
        first = "gold" if "gold" in collected else next(iter(collected))
        result = sweep(collected[first], k)
        metrics["sweep"] = {"mode": first, **result}
        for mode, c in collected.items():
            metrics[mode]["at_best_threshold"] = {
                "threshold": result["best_threshold"],
                "mention_threshold": result["best_mention_threshold"],
                "cid": entity_prf(c, result["best_threshold"], k),
                "cid_ids": entity_prf(c, result["best_threshold"], k, ids_only=True),
                "mention_pairs": mention_prf(c, result["best_mention_threshold"]),
            }
    return metrics, collected


def metrics_markdown(metrics: Dict[str, Any]) -> str:
    """The headline figures as a Markdown table (ROC/PR AUC: entity pairs)."""
    lines = ["| entities | threshold | CID P | CID R | CID F1 | mention threshold | "
             "mention P | mention R | mention F1 | ROC-AUC | PR-AUC |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def pct(x: Optional[float]) -> str:
        return "–" if x is None else f"{100 * x:.2f}"

    def row(mode: str, block: Dict[str, Any], curves: Dict[str, Any]) -> str:
        cid, men = block["cid"], block["mention_pairs"]
        return (f"| {mode} | {block['threshold']:.2f} | {pct(cid['p'])} | {pct(cid['r'])} | "
                f"**{pct(cid['f'])}** | {block['mention_threshold']:.2f} | {pct(men['p'])} | "
                f"{pct(men['r'])} | {pct(men['f'])} | "
                f"{pct(curves['roc_auc'])} | {pct(curves['pr_auc'])} |")

    for mode in MODES:
        if mode not in metrics:
            continue
        lines.append(row(mode, metrics[mode], metrics[mode]["entity_curves"]))
        if "at_best_threshold" in metrics[mode]:
            lines.append(row(f"{mode} (swept)", metrics[mode]["at_best_threshold"],
                             metrics[mode]["entity_curves"]))
    if "predicted" in metrics:
        lines += ["", concepts_markdown(metrics["predicted"])]
    return "\n".join(lines)


def concepts_markdown(block: Dict[str, Any]) -> str:
    """End to end on ids: CID on id pairs only and (document, id) scores per label."""
    rows = [("CID, (chemical id, disease id) pairs", block["cid_ids"])]
    rows += [(f"concepts (document, id): {label}", scores)
             for label, scores in block.get("concepts", {}).items()]
    lines = ["| end to end, ids | P | R | F1 | predicted | gold |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {name} | {100 * s['p']:.2f} | {100 * s['r']:.2f} | **{100 * s['f']:.2f}** | "
              f"{s['predicted']} | {s['gold']} |" for name, s in rows]
    causes = [(label, scores["errors"]) for label, scores in block.get("concepts", {}).items()
              if "errors" in scores]
    if causes:
        lines += ["", "| (document, id) errors | wrong: entity | boundary | linking | "
                  "missed: entity | boundary | linking |", "|---|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {label} | " + " | ".join(str(e[side][c]) for side in ("fp", "fn")
                                              for c in CAUSES) + " |" for label, e in causes]
    return "\n".join(lines)


def write_metrics(metrics: Dict[str, Any], json_path: Path, md_path: Optional[Path] = None) -> None:
    """Write metrics JSON (and Markdown)."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(metrics, indent=2))
    if md_path is not None:
        md_path.parent.mkdir(parents=True, exist_ok=True)
        md_path.write_text(metrics_markdown(metrics) + "\n")


def set_threshold(
    nlp: Language, threshold: float, mention_threshold: Optional[float] = None,
    component: Optional[str] = None, min_per_doc: Optional[int] = None,
) -> None:
    """Store thresholds (and ``min_per_doc``, unless None) in the component's cfg and
    the pipeline's config."""
    name, rel = find_relation_extractor(nlp, component)
    rel.threshold = threshold
    rel.mention_threshold = mention_threshold
    config = nlp.get_pipe_config(name)
    config["threshold"] = float(threshold)
    config["mention_threshold"] = None if mention_threshold is None else float(mention_threshold)
    if min_per_doc is not None:
        rel.min_per_doc = min_per_doc
        config["min_per_doc"] = rel.min_per_doc


def kfold_splits(n: int, k: int, seed: int = 0) -> List[Tuple[List[int], List[int]]]:
    """(train indices, held-out indices) of k folds over n shuffled items."""
    if k < 2 or k > n:
        raise ValueError(f"k-fold needs 2 <= k <= number of documents ({n}), got k={k}")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    folds = [sorted(order[i::k]) for i in range(k)]
    return [(sorted(j for f in folds[:i] + folds[i + 1:] for j in f), folds[i])
            for i in range(k)]
