"""What domain-adaptive pretraining buys: NER (and CID) F1, adapted vs embedded transformer.

Trains the same config twice in one run, on the same train/dev splits, seed and budget,
changing only ``[components.transformer.model] name``: once the embedded MiniLM, once the
folder written by ``python -m spacy_biobert pretrain`` (``training/adapted``). Both
``model-best`` pipelines are then scored on the full dev files with
``spacy_biobert.evaluation.evaluate_corpora`` (strict span match, each corpus on the
labels it annotates); when the pipelines contain a relation extractor, BC5CDR's CID F1
(gold entities, ``spacy_biobert.relations.evaluation``) is scored too. It prints one
table, the differences in points, the goals (BC5CDR +2 F1, BC5CDR dev micro F1
>= 84.3) and the held-out perplexities of the adapted model, and writes all numbers to
``--output``.

Commands (repository root, project venv)::

    # the four corpora (two full `spacy train` runs of 900 steps: about an hour on a 2-core CPU)
    HF_HUB_OFFLINE=1 python bench/pretrain_gain.py --adapted training/adapted \\
        --output metrics/bench_pretrain_gain.json

    # BC5CDR alone (NER heads for its two labels + relations): the BC5CDR goals
    HF_HUB_OFFLINE=1 python bench/pretrain_gain.py --adapted training/adapted \\
        --train corpus/bc5cdr_train.spacy --dev corpus/bc5cdr_dev.spacy \\
        --pipeline transformer ner_chemical ner_disease relation_extractor \\
        --override corpora.train.repeat.bc5cdr=1 \\
        --max-steps 600 --eval-frequency 600 --output metrics/bench_pretrain_gain_bc5cdr.json

    # a dry run: 5 documents per file, 2 training steps (numbers are meaningless)
    HF_HUB_OFFLINE=1 python bench/pretrain_gain.py --adapted training/adapted --dry-run
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

CORPORA = ("bc5cdr", "ncbi_disease", "bc2gm", "linnaeus")
GOAL_GAIN = 2.0  # F1 points on BC5CDR
GOAL_BC5CDR = 84.3  # scispacy en_ner_bc5cdr_md's reported F1


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adapted", type=Path, required=True,
                        help="model folder written by `python -m spacy_biobert pretrain`")
    parser.add_argument("--embedded", default=None,
                        help="baseline transformer (default: the embedded MiniLM)")
    parser.add_argument("--config", type=Path, default=Path("configs/ner_cpu.cfg"))
    parser.add_argument("--train", type=Path, nargs="+",
                        default=[Path(f"corpus/{c}_train.spacy") for c in CORPORA])
    parser.add_argument("--dev", type=Path, nargs="+",
                        default=[Path(f"corpus/{c}_dev.spacy") for c in CORPORA])
    parser.add_argument("--max-steps", type=int, default=900,
                        help="training steps of each run (the project's default budget)")
    parser.add_argument("--eval-frequency", type=int, default=900)
    parser.add_argument("--pipeline", nargs="+", default=None,
                        help="components to train (default: the config's pipeline), e.g. "
                             "without the heads of corpora left out of --train")
    parser.add_argument("--override", nargs="*", default=[], metavar="KEY=VALUE",
                        help="further `spacy train` overrides, e.g. training.seed=1")
    parser.add_argument("--limit", type=int, default=0,
                        help="first N documents of each train/dev file (0 = all)")
    parser.add_argument("--dry-run", action="store_true",
                        help="--limit 5, 2 steps: checks the plumbing, numbers meaningless")
    parser.add_argument("--workdir", type=Path, default=Path("training-bench-pretrain"),
                        help="where both training runs are written")
    parser.add_argument("--output", type=Path, default=Path("metrics/bench_pretrain_gain.json"))
    return parser.parse_args(argv)


def limited(paths: Sequence[Path], limit: int, folder: Path) -> List[Path]:
    """The first ``limit`` documents of each DocBin, written to ``folder`` (0: unchanged)."""
    if not limit:
        return list(paths)
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for path in paths:
        docs = list(DocBin(store_user_data=True).from_disk(path).get_docs(Vocab()))[:limit]
        target = folder / path.name
        DocBin(docs=docs, store_user_data=True).to_disk(target)
        out.append(target)
    return out


def present_repeats(config: Path, train_files: Sequence[Path]) -> List[str]:
    """The config's ``[corpora.train.repeat]`` kept for the corpora ``train_files`` hold.

    A repeat naming a corpus that is not trained on stops ``spacy train``; a bench run on
    a subset of the corpora (``--train``) weighs the corpora it has as the recipe does.
    """
    from spacy.tokens import DocBin
    from spacy.util import load_config
    from spacy.vocab import Vocab

    from spacy_biobert.extensions import install_extensions

    install_extensions()
    repeat = dict(load_config(config)["corpora"]["train"].get("repeat") or {})
    seen = {doc._.corpus for path in train_files
            for doc in DocBin(store_user_data=True).from_disk(path).get_docs(Vocab())}
    kept = {name: count for name, count in repeat.items() if name in seen}
    return ["--corpora.train.repeat", json.dumps(kept)] if kept != repeat else []


def overrides(args: argparse.Namespace) -> List[str]:
    """``--pipeline`` and ``--override`` as ``spacy train`` arguments."""
    out: List[str] = []
    if args.pipeline:
        out += ["--nlp.pipeline", json.dumps(args.pipeline)]
    for item in args.override:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--override {item!r}: expected KEY=VALUE")
        out += [f"--{key.lstrip('-')}", value]
    return out


def train(config: Path, name: str, output: Path, train_files: Sequence[Path],
          dev_files: Sequence[Path], max_steps: int, eval_frequency: int,
          extra: Sequence[str] = ()) -> float:
    """``spacy train`` with the transformer ``name``; RETURNS seconds taken."""
    cmd = [
        sys.executable, "-m", "spacy", "train", str(config), "--output", str(output),
        "--paths.train", " ".join(map(str, train_files)),
        "--paths.dev", " ".join(map(str, dev_files)),
        "--training.max_steps", str(max_steps),
        "--training.optimizer.learn_rate.total_steps", str(max_steps),
        "--training.eval_frequency", str(eval_frequency),
        "--training.logger.progress_bar", "null",
        "--components.transformer.model.name", name, *extra,
    ]
    if "--training.optimizer.learn_rate.warmup_steps" not in extra:
        cmd += ["--training.optimizer.learn_rate.warmup_steps", str(max(1, max_steps // 10))]
    print(f"== training on {name}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return time.perf_counter() - start


def cid_scores(model: Path, dev_files: Sequence[Path]) -> Optional[Dict[str, float]]:
    """BC5CDR CID with gold entities, when the pipeline has a relation extractor: F1 at
    the component's threshold, F1 at the dev-swept threshold, ROC-AUC (points, 0-100)."""
    import spacy

    from spacy_biobert.relations.evaluation import evaluate_relations, find_relation_extractor

    nlp = spacy.load(model)
    try:
        find_relation_extractor(nlp)
    except ValueError:
        return None
    files = [p for p in dev_files if "bc5cdr" in p.name] or list(dev_files)
    try:
        metrics, _ = evaluate_relations(nlp, files, modes=["gold"], do_sweep=True)
    except ValueError as err:  # e.g. dev files without gold relations
        print(f"no CID score: {err}", file=sys.stderr)
        return None
    gold = metrics["gold"]
    roc = gold["entity_curves"].get("roc_auc")
    return {"f1": round(100 * float(gold["cid"]["f"]), 2),
            "f1_swept": round(100 * float(gold["at_best_threshold"]["cid"]["f"]), 2),
            "threshold_swept": float(gold["at_best_threshold"]["threshold"]),
            "roc_auc": round(100 * float(roc), 2) if roc is not None else float("nan")}


def run(args: argparse.Namespace) -> Dict[str, Any]:
    from spacy_biobert.evaluation import evaluate_corpora
    from spacy_biobert.transformers_path import embedded_transformer_path

    if args.dry_run:
        args.limit, args.max_steps, args.eval_frequency = args.limit or 5, 2, 1
    if not (args.adapted / "config.json").exists():
        raise SystemExit(f"--adapted {args.adapted}: no model there (run `spacy project run "
                         "adapt` or `python -m spacy_biobert pretrain` first)")
    train_files = limited(args.train, args.limit, args.workdir / "data" / "train")
    dev_files = limited(args.dev, args.limit, args.workdir / "data" / "dev")
    variants = {"embedded": args.embedded or embedded_transformer_path(),
                "adapted": str(args.adapted.resolve())}
    extra = present_repeats(args.config, train_files) + overrides(args)
    results: Dict[str, Any] = {"settings": {
        "config": str(args.config), "train": [str(p) for p in args.train],
        "dev": [str(p) for p in args.dev], "max_steps": args.max_steps,
        "limit": args.limit, "dry_run": args.dry_run, "transformers": variants,
        "overrides": extra}}
    for variant, name in variants.items():
        out = args.workdir / variant
        seconds = train(args.config, name, out, train_files, dev_files, args.max_steps,
                        args.eval_frequency, extra)
        metrics = evaluate_corpora(out / "model-best", dev_files)
        results[variant] = {"train_seconds": round(seconds, 1), "ner": metrics,
                            "cid": cid_scores(out / "model-best", dev_files)}
    info_path = args.adapted / "pretraining.json"
    if info_path.exists():
        results["pretraining"] = json.loads(info_path.read_text())
    return results


def report(results: Dict[str, Any]) -> List[str]:
    """The side-by-side table and the goals, as lines."""
    emb, ada = results["embedded"], results["adapted"]
    lines = ["| corpus | embedded F1 | adapted F1 | difference |", "|---|---:|---:|---:|"]
    names = [n for n in emb["ner"]["corpora"] if n in ada["ner"]["corpora"]]
    for name in names:
        a, b = emb["ner"]["corpora"][name]["micro"]["f"], ada["ner"]["corpora"][name]["micro"]["f"]
        lines.append(f"| {name} | {a:.2f} | {b:.2f} | {b - a:+.2f} |")
    a, b = emb["ner"]["micro"]["f"], ada["ner"]["micro"]["f"]
    lines.append(f"| all (micro) | {a:.2f} | {b:.2f} | {b - a:+.2f} |")
    if emb["cid"] is not None and ada["cid"] is not None:
        for key, what in (("f1", "F1 at the stored threshold"),
                          ("f1_swept", "F1 at the dev-best threshold"), ("roc_auc", "ROC-AUC")):
            a, b = emb["cid"][key], ada["cid"][key]
            lines.append(f"| BC5CDR CID (gold entities), {what} | {a:.2f} | {b:.2f} | "
                         f"{b - a:+.2f} |")
    else:
        lines.append("| BC5CDR CID | n/a (no relation extractor, or no gold relations) | | |")
    if "bc5cdr" in names:
        base = emb["ner"]["corpora"]["bc5cdr"]["micro"]["f"]
        adapted = ada["ner"]["corpora"]["bc5cdr"]["micro"]["f"]
        gain_ok = adapted - base >= GOAL_GAIN
        level_ok = adapted >= GOAL_BC5CDR
        lines.append("")
        lines.append(f"goal: BC5CDR gain >= +{GOAL_GAIN} F1: {adapted - base:+.2f} "
                     f"({'met' if gain_ok else 'NOT met'})")
        lines.append(f"goal: BC5CDR dev micro F1 >= {GOAL_BC5CDR}: {adapted:.2f} "
                     f"({'met' if level_ok else 'NOT met'})")
    ppl = results.get("pretraining", {}).get("perplexity", {})
    if ppl:
        def fmt(value: Optional[float]) -> str:
            return "-" if value is None else f"{value:.2f}"

        lines.append(f"held-out MLM perplexity of the adapted model: before "
                     f"{fmt(ppl.get('before'))}, after {fmt(ppl.get('after'))}")
    if results["settings"]["dry_run"]:
        lines.append("DRY RUN: a few documents and 2 steps; the numbers mean nothing.")
    return lines


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    results = run(args)
    for line in report(results):
        print(line)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    print(f"saved {args.output}")
    return results


if __name__ == "__main__":
    main()
