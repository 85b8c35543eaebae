"""Command-line parts of relation extraction: ``evaluate-relations`` and ``cv``.

Registered on the ``python -m spacy_biobert`` app in :mod:`spacy_biobert.cli`.
"""
import json
import os
import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer
from wasabi import msg

from ..extras import MissingExtraError, require


def _load(model: str, gpu_id: int):  # type: ignore[no-untyped-def]
    import spacy

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import spacy_biobert  # noqa: F401  (extensions)

    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    return spacy.load(model)


def _modes(entities: str) -> List[str]:
    choices = {"gold": ["gold"], "predicted": ["predicted"], "both": ["gold", "predicted"]}
    if entities not in choices:
        raise typer.BadParameter(f"--entities must be gold, predicted or both, got {entities!r}")
    return choices[entities]


def _print_table(metrics: Dict[str, Any]) -> None:
    from .evaluation import metrics_markdown

    print(metrics_markdown(metrics))
    for mode in ("gold", "predicted"):
        if mode in metrics:
            cands = metrics[mode]["entity_candidates"]
            capped = metrics[mode]["capped"]
            msg.text(f"{mode} entities: {metrics[mode]['documents']} documents, "
                     f"{cands['count']} candidate entity pairs ({cands['positive']} gold), "
                     f"{cands['gold_pairs_not_candidates']} of {cands['gold_pairs']} gold pairs "
                     f"not among the candidates; pair cap hit in {capped['documents']} "
                     f"document(s) ({capped['pairs']} pairs dropped)")


def _require_eval(curves: bool = False) -> None:
    """Fail before any work when the ``eval`` extra is missing."""
    try:
        require("sklearn.metrics", "eval", "relation evaluation (ROC-AUC, PR-AUC)")
        if curves:
            require("matplotlib", "eval", "relation curves (--curves)")
    except MissingExtraError as err:
        msg.fail("Relation evaluation needs the 'eval' extra", str(err), exits=1)


def evaluate_relations_cmd(
    model: str = typer.Argument(..., help="Pipeline name or path with a relation extractor"),
    data: List[Path] = typer.Argument(
        ..., help=".spacy files with gold relations (e.g. BC5CDR dev)"),
    entities: str = typer.Option(
        "both", "--entities", "-e",
        help="gold: gold entities (with ids) as input, the official CID measure; "
             "predicted: the pipeline's own NER (end to end); both"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Metrics JSON"),
    markdown: Optional[Path] = typer.Option(None, "--markdown", help="Metrics Markdown table"),
    curves: Optional[Path] = typer.Option(
        None, "--curves", help="Folder for the ROC and PR curves (relations_roc.png, "
                               "relations_pr.png)"),
    do_sweep: bool = typer.Option(False, "--sweep",
                                  help="Find the threshold with the best CID F1 (0.01 … 0.99)"),
    save_threshold: bool = typer.Option(
        False, "--save-threshold", help="With --sweep: store the best threshold in the "
                                        "component and save the pipeline (see --save-to)"),
    save_to: Optional[Path] = typer.Option(
        None, "--save-to", help="Where --save-threshold writes the pipeline (default: MODEL)"),
    min_per_doc: Optional[int] = typer.Option(
        None, "--min-per-doc", help="Score (and with --save-threshold store) this "
                                    "min_per_doc instead of the component's: every document "
                                    "reports at least its N best entity pairs"),
    component: Optional[str] = typer.Option(None, "--component", help="Relation pipe name"),
    batch_size: int = typer.Option(8, "--batch-size"),
    gpu_id: int = typer.Option(-1, "--gpu-id"),
    limit: int = typer.Option(0, "--limit", min=0,
                              help="Score the first N documents of each file (0 = all)"),
) -> None:
    """Score relations: CID P/R/F1 (gold and predicted entities), mention pairs,
    ROC-AUC/PR-AUC over all candidates, curves, threshold sweep."""
    from .evaluation import evaluate_relations, save_curves, set_threshold, write_metrics

    modes = _modes(entities)
    _require_eval(curves is not None)
    if save_threshold and not do_sweep:
        msg.fail("--save-threshold needs --sweep", exits=1)
    try:
        nlp = _load(model, gpu_id)
        metrics, collected = evaluate_relations(nlp, data, modes=modes, do_sweep=do_sweep,
                                                batch_size=batch_size, component=component,
                                                min_per_doc=min_per_doc, limit=limit)
    except (OSError, ValueError) as err:
        msg.fail("Relation evaluation failed", str(err), exits=1)
        return
    _print_table(metrics)
    if output is not None:
        write_metrics(metrics, output, markdown)
        msg.good(f"Saved metrics to {output}")
    elif markdown is not None:
        from .evaluation import metrics_markdown

        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(metrics_markdown(metrics) + "\n")
    if curves is not None:
        for path in save_curves(collected, curves):
            msg.good(f"Saved {path}")
    if do_sweep:
        best = metrics["sweep"]
        msg.info(f"Best thresholds on {best['mode']} entities (min_per_doc "
                 f"{metrics['min_per_doc']}): {best['best_threshold']:.2f} "
                 f"(CID F1 {100 * best['best_f']:.2f}), mention pairs "
                 f"{best['best_mention_threshold']:.2f} "
                 f"(F1 {100 * best['best_mention_f']:.2f})")
        if save_threshold:
            target = save_to or Path(model)
            set_threshold(nlp, best["best_threshold"], best["best_mention_threshold"],
                          component, min_per_doc)
            nlp.to_disk(target)
            msg.good(f"Stored thresholds {best['best_threshold']:.2f} (entity pairs) and "
                     f"{best['best_mention_threshold']:.2f} (mention pairs) in {target}")


def cv_cmd(
    config: Path = typer.Argument(..., help="Training config (e.g. configs/ner_cpu.cfg)"),
    data: List[Path] = typer.Argument(..., help=".spacy files pooled and split into folds "
                                                "(e.g. BC5CDR train and dev)"),
    output: Path = typer.Option(Path("training-cv"), "--output", "-o",
                                help="Folder for each fold's data, model and metrics"),
    folds: int = typer.Option(5, "--folds", "-k", help="Number of folds"),
    seed: int = typer.Option(0, "--seed", help="Shuffling seed"),
    max_steps: Optional[int] = typer.Option(None, "--max-steps",
                                            help="Override training.max_steps per fold"),
    eval_frequency: Optional[int] = typer.Option(None, "--eval-frequency"),
    entities: str = typer.Option("gold", "--entities", "-e", help="gold, predicted or both"),
    gpu_id: int = typer.Option(-1, "--gpu-id"),
) -> None:
    """k-fold cross-validation of relation extraction: train on k-1 folds, score CID
    F1 on the held-out fold, report mean ± std."""
    _require_eval()
    import spacy
    from spacy.cli.train import train as spacy_train
    from spacy.tokens import DocBin
    from thinc.api import Config

    from .evaluation import evaluate_relations, kfold_splits

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import spacy_biobert  # noqa: F401

    modes = _modes(entities)
    if not config.exists():
        msg.fail(f"No such config: {config}", exits=1)
    # A schedule with a length (warmup_linear) must end with the new budget.
    schedule = Config().from_disk(config, interpolate=False)["training"].get(
        "optimizer", {}).get("learn_rate")
    schedule = schedule if isinstance(schedule, dict) else None
    nlp = spacy.blank("en")
    docs: List[Any] = []
    for path in data:
        if not path.exists():
            msg.fail(f"No such file: {path}", exits=1)
        docs.extend(DocBin().from_disk(path).get_docs(nlp.vocab))
    try:
        splits = kfold_splits(len(docs), folds, seed)
    except ValueError as err:
        msg.fail("Cross-validation failed", str(err), exits=1)
        return
    scores: Dict[str, List[float]] = {m: [] for m in modes}
    per_fold = []
    for i, (train_idx, dev_idx) in enumerate(splits):
        fold = output / f"fold{i}"
        fold.mkdir(parents=True, exist_ok=True)
        for name, idx in (("train", train_idx), ("dev", dev_idx)):
            DocBin(store_user_data=True, docs=[docs[j] for j in idx]).to_disk(
                fold / f"{name}.spacy")
        overrides: Dict[str, Any] = {"paths.train": str(fold / "train.spacy"),
                                     "paths.dev": str(fold / "dev.spacy")}
        if max_steps is not None:
            overrides["training.max_steps"] = max_steps
            if "total_steps" in (schedule or {}):
                overrides["training.optimizer.learn_rate.total_steps"] = max_steps
        if eval_frequency is not None:
            overrides["training.eval_frequency"] = eval_frequency
        msg.divider(f"fold {i + 1}/{folds}: {len(train_idx)} train, {len(dev_idx)} held out")
        spacy_train(config, fold / "model", use_gpu=gpu_id, overrides=overrides)
        fold_nlp = _load(str(fold / "model" / "model-best"), -1)
        metrics, _ = evaluate_relations(fold_nlp, [fold / "dev.spacy"], modes=modes)
        (fold / "relations.json").write_text(json.dumps(metrics, indent=2))
        row = {"fold": i}
        for mode in modes:
            f1 = metrics[mode]["cid"]["f"]
            scores[mode].append(f1)
            row[mode] = f1
        per_fold.append(row)
    summary: Dict[str, Any] = {"folds": folds, "documents": len(docs), "per_fold": per_fold}
    table = []
    for mode, values in scores.items():
        mean = statistics.mean(values)
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        summary[mode] = {"mean_f": mean, "std_f": std}
        table.append((f"CID F1, {mode} entities", f"{100 * mean:.2f} ± {100 * std:.2f}"))
    (output / "cv.json").write_text(json.dumps(summary, indent=2))
    msg.table(table, header=("metric", f"mean ± std over {folds} folds"))
    msg.good(f"Saved {output / 'cv.json'}")
