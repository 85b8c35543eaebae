"""Inference precisions side by side: fp32, int8, onnx and onnx-int8 on the same texts.

For each precision the trained pipeline is optimized once (``spacy_biobert.optimize``)
and saved; then every measurement runs in a fresh interpreter, so load time and peak RSS
are those of a user loading that pipeline: ``spacy.load`` time, words/s of ``nlp.pipe``
over the texts (non-space tokens, after one warm-up document), peak RSS of the process
up to the end of that pass (``pipe_peak_rss_mb``: what annotating costs) and over the
whole run, scoring included (``peak_rss_mb``), and, with ``--dev``, NER micro F1
(``spacy_biobert.evaluation``) and CID F1 with gold entities
(``spacy_biobert.relations.evaluation``, when the pipeline has a relation extractor).
With ``--repeats`` the precisions take turns, so a change in the machine's load hits all
of them alike; the medians are reported.

    python bench/inference_speed.py training/model-best --dev corpus/bc5cdr_dev.spacy \
        --limit 100 --threads 1 --output metrics/bench_inference.json

It prints one row per precision (ratios to fp32) and the PubMed projection (about
36 million abstracts, 7 billion words): hours on one core at the measured words/s per
thread, and the cores that annotate it in 24 hours. With ``--max-batch-items A,B`` each
precision is measured at each setting of the transformer's ``max_batch_items`` (the
padded tokens of the documents it runs at once), one row each. ``--window W:O`` runs
every precision with windows of at most W tokens overlapping by at least O instead of
those the pipeline was trained with, to see what the window costs and gains.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

PRECISIONS = ("fp32", "int8", "onnx", "onnx-int8")
PUBMED_WORDS = 7_000_000_000


def read_texts(dev: Optional[Path], texts: Optional[Path], limit: int) -> List[str]:
    """The texts to time: one per line of ``texts``, else those of the ``dev`` DocBin."""
    if texts is not None:
        lines = [line for line in texts.read_text(encoding="utf8").splitlines() if line.strip()]
    elif dev is not None:
        import spacy
        from spacy.tokens import DocBin

        from spacy_biobert.extensions import install_extensions

        install_extensions()
        vocab = spacy.blank("en").vocab
        lines = [doc.text for doc in DocBin(store_user_data=True).from_disk(dev).get_docs(vocab)]
    else:
        raise SystemExit("give --texts or --dev")
    return lines[:limit] if limit else lines


def prepare(model: Path, precisions: Sequence[str], workdir: Path) -> Dict[str, Dict[str, Any]]:
    """Optimize and save the pipeline at each precision; fp32 is ``model`` itself."""
    import spacy

    import spacy_biobert

    prepared: Dict[str, Dict[str, Any]] = {}
    for precision in precisions:
        if precision == "fp32":
            prepared[precision] = {"path": str(model), "optimize_s": 0.0}
            continue
        nlp = spacy.load(model)
        start = time.perf_counter()
        spacy_biobert.optimize(nlp, precision)
        seconds = time.perf_counter() - start
        path = workdir / precision
        nlp.to_disk(path)
        prepared[precision] = {"path": str(path), "optimize_s": round(seconds, 2)}
    for info in prepared.values():
        model_file = Path(info["path"]) / "transformer" / "model"
        info["transformer_mb"] = round(model_file.stat().st_size / 2**20, 1)
    return prepared


def measure(path: str, texts: List[str], threads: int, batch_size: int,
            dev: Optional[Path], limit: int, max_batch_items: int = 0,
            window: str = "") -> Dict[str, Any]:
    """Load ``path`` and time it (runs in the child interpreter); ``max_batch_items``
    other than 0 replaces the transformer component's, ``window`` (``"W:O"``) its windows
    with the balanced ones of at most W tokens overlapping by at least O."""
    import torch

    torch.set_num_threads(threads)
    start = time.perf_counter()
    import spacy

    nlp = spacy.load(path)
    load_s = time.perf_counter() - start
    if max_batch_items:
        nlp.get_pipe("transformer").cfg["max_batch_items"] = max_batch_items
    if window:
        from spacy_biobert.span_getters import configure_balanced_spans

        size, overlap = (int(v) for v in window.split(":"))
        nlp.get_pipe("transformer").model.attrs["get_spans"] = configure_balanced_spans(
            size, overlap)
    nlp(texts[0])
    start = time.perf_counter()
    words = sum(sum(1 for t in doc if not t.is_space)
                for doc in nlp.pipe(texts, batch_size=batch_size))
    seconds = time.perf_counter() - start
    out: Dict[str, Any] = {"load_s": round(load_s, 2), "words": words,
                           "seconds": round(seconds, 2),
                           "words_per_second": round(words / seconds, 1),
                           "pipe_peak_rss_mb": peak_rss_mb()}
    if dev is not None:
        out.update(dev_scores(nlp, dev, limit, batch_size))
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ``ru_maxrss``: that one starts
    from the parent's resident size at ``fork``, so every child would report the parent's."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def dev_scores(nlp: Any, dev: Path, limit: int, batch_size: int) -> Dict[str, Any]:
    """NER micro F1 and, with a relation extractor, CID F1 from gold entities."""
    from spacy_biobert.evaluation import evaluate_corpora

    scores: Dict[str, Any] = {
        "ner_f1": evaluate_corpora(nlp, [dev], batch_size=batch_size, limit=limit)["micro"]["f"]}
    if any(pipe.__class__.__name__ == "RelationExtractor" for _, pipe in nlp.pipeline):
        from spacy_biobert.relations.evaluation import evaluate_relations

        metrics, _ = evaluate_relations(nlp, [dev], modes=("gold",), limit=limit,
                                        batch_size=batch_size)
        scores["cid_f1"] = round(100 * metrics["gold"]["cid"]["f"], 2)
    return scores


def run_child(path: str, texts_file: Path, args: argparse.Namespace,
              score: bool, max_batch_items: int = 0) -> Dict[str, Any]:
    cmd = [sys.executable, __file__, path, "--child", "--texts", str(texts_file),
           "--threads", str(args.threads), "--batch-size", str(args.batch_size),
           "--limit", str(args.limit), "--max-batch-items", str(max_batch_items),
           "--window", args.window]
    if score and args.dev is not None:
        cmd += ["--dev", str(args.dev)]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), HF_HUB_OFFLINE="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"measuring {path} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def variant_name(precision: str, max_batch_items: int) -> str:
    """The row of a precision at a ``max_batch_items`` (0: as saved)."""
    return f"{precision} @ {max_batch_items}" if max_batch_items else precision


def summarize(runs: Dict[str, List[Dict[str, Any]]],
              prepared: Dict[str, Dict[str, Any]], threads: int) -> Dict[str, Dict[str, Any]]:
    """Medians over the repeats, ratios to (the first) fp32, and the PubMed projection."""
    rows: Dict[str, Dict[str, Any]] = {}
    for name, measured in runs.items():
        precision = name.split(" @ ")[0]
        row = {key: measured[0][key] for key in ("words", "ner_f1", "cid_f1")
               if key in measured[0]}
        for key in ("words_per_second", "load_s", "pipe_peak_rss_mb", "peak_rss_mb"):
            if key in measured[0]:
                row[key] = round(statistics.median(m[key] for m in measured), 2)
        row.update(optimize_s=prepared[precision]["optimize_s"],
                   transformer_mb=prepared[precision]["transformer_mb"])
        per_core = row["words_per_second"] / threads
        row["pubmed_core_hours"] = round(PUBMED_WORDS / per_core / 3600)
        row["pubmed_cores_24h"] = round(row["pubmed_core_hours"] / 24)
        rows[name] = row
    base = next((rows[name] for name in rows if name.split(" @ ")[0] == "fp32"), None)
    if base is not None:
        for row in rows.values():
            row["speedup"] = round(row["words_per_second"] / base["words_per_second"], 2)
            for key in ("ner_f1", "cid_f1"):
                if key in row and key in base:
                    row[f"{key}_delta"] = round(row[key] - base[key], 2)
    return rows


def print_table(rows: Dict[str, Dict[str, Any]]) -> None:
    columns = ["words_per_second", "speedup", "load_s", "pipe_peak_rss_mb", "peak_rss_mb", "ner_f1",
               "ner_f1_delta", "cid_f1", "cid_f1_delta", "transformer_mb", "optimize_s",
               "pubmed_core_hours", "pubmed_cores_24h"]
    columns = [c for c in columns if any(c in row for row in rows.values())]
    print("| precision | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for precision, row in rows.items():
        print(f"| {precision} | " + " | ".join(str(row.get(c, "-")) for c in columns) + " |")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="trained pipeline folder (fp32)")
    parser.add_argument("--dev", type=Path, help="DocBin for F1 (and texts without --texts)")
    parser.add_argument("--texts", type=Path, help="texts to time, one per line")
    parser.add_argument("--limit", type=int, default=100, help="first N texts/docs (0: all)")
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--threads", type=int, default=1, help="threads per process")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-batch-items", default="0",
                        help="transformer max_batch_items settings to compare, comma-"
                             "separated (0: the pipeline's own)")
    parser.add_argument("--window", default="",
                        help="W:O: balanced windows of at most W tokens overlapping by at "
                             "least O instead of the pipeline's own (as trained)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--speed-only", action="store_true",
                        help="time only; no F1 (--dev still gives the texts)")
    parser.add_argument("--output", type=Path, help="also write every figure as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Dict[str, Any]]:
    args = parse_args(argv)
    texts = read_texts(args.dev, args.texts, args.limit)
    values = [v.strip() for v in str(args.max_batch_items).split(",") if v.strip()]
    if not all(v.isdigit() for v in values):
        raise SystemExit(f"--max-batch-items: {args.max_batch_items!r} (positive numbers, "
                         "or 0 for the pipeline's own)")
    settings = [int(v) for v in values] or [0]
    parts = args.window.split(":") if args.window else []
    if parts and (len(parts) != 2 or not all(p.isdigit() for p in parts)
                  or not 0 <= int(parts[1]) < int(parts[0])):
        raise SystemExit(f"--window: {args.window!r} (W:O, window W tokens, overlap O < W)")
    if args.child:
        print(json.dumps(measure(str(args.model), texts, args.threads, args.batch_size,
                                 args.dev, args.limit, settings[0], args.window)))
        return {}
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-inference-") as tmp:
        prepared = prepare(args.model, precisions, Path(tmp))
        texts_file = Path(tmp) / "texts.txt"
        texts_file.write_text("\n".join(t.replace("\n", " ") for t in texts), encoding="utf8")
        variants = [(p, v) for p in precisions for v in settings]
        runs: Dict[str, List[Dict[str, Any]]] = {variant_name(p, v): [] for p, v in variants}
        for repeat in range(args.repeats):
            for precision, setting in variants:
                name = variant_name(precision, setting)
                print(f"[{repeat + 1}/{args.repeats}] {name}", file=sys.stderr)
                # Scores do not change between repeats: the first one computes them.
                runs[name].append(run_child(prepared[precision]["path"], texts_file, args,
                                            score=repeat == 0 and not args.speed_only,
                                            max_batch_items=setting))
    rows = summarize(runs, prepared, args.threads)
    print_table(rows)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        args.output.write_text(json.dumps({"settings": settings, "texts": len(texts),
                                           "rows": rows, "runs": runs}, indent=2))
    return rows


if __name__ == "__main__":
    main()
