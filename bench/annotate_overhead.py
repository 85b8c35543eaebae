"""Benchmark of ``annotate``: I/O and bookkeeping overhead, flat memory, worker processes.

Three measurements, each side by side in one run, printed as ratios:

1. **overhead**: ``annotate`` (JSONL in -> SQLite out, resumable bookkeeping) versus
   bare ``list(nlp.pipe(texts))`` over the same texts with the same loaded pipeline;
   the two alternate ``--repeats`` times and the fastest of each counts.
   Goal: ratio <= 1.15.
2. **memory**: peak RSS of a fresh process annotating ``--small`` and then ``--large``
   documents (JSONL -> SQLite). The transformer pipeline would take hours for 20k
   documents on a 2-core CPU, so this uses a cheap pipeline (the biomedical tokenizer and an
   entity ruler) and says so. Goal: ratio close to 1 (flat).
3. **processes**: ``--n-process 2`` versus 1 on the same texts with the real pipeline
   (docs/s after the first batch, and wall time including worker start-up), plus one
   process held to one torch thread: how much a single process already gets from the
   second core, and so the most that two processes can add. Goal: speed-up >= 1.5.
   Run it on an idle machine, without ``OMP_NUM_THREADS``. ``--precision`` runs all
   three at that inference precision (``annotate --precision``); its goal for
   ``onnx-int8``: words/s per core of two processes >= 0.9x one process on one thread.

Texts are BC5CDR/NCBI abstracts (``--texts``, a ``.spacy`` file) repeated as needed::

    OMP_NUM_THREADS=1 nice -n 10 python bench/annotate_overhead.py \\
        --model training/model-best --texts corpus/bc5cdr_dev.spacy --docs 300
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, List, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_texts(path: Path, n: int) -> List[str]:
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    texts = [doc.text for doc in DocBin().from_disk(path).get_docs(nlp.vocab)]
    return [texts[i % len(texts)] for i in range(n)]


def write_jsonl(path: Path, texts: List[str]) -> None:
    with path.open("w", encoding="utf8") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"id": f"d{i}", "text": text}) + "\n")


def overhead(model: str, texts: List[str], batch_size: int, repeats: int, tmp: Path) -> None:
    import spacy

    from spacy_biobert.annotate import annotate
    from spacy_biobert.io import open_sink, open_source

    nlp = spacy.load(model)
    src = tmp / "overhead.jsonl"
    write_jsonl(src, texts)
    list(nlp.pipe(texts[:batch_size], batch_size=batch_size))  # warm up
    bare, full = [], []
    for r in range(repeats):
        start = time.perf_counter()
        list(nlp.pipe(texts, batch_size=batch_size))
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        summary = annotate(nlp, open_source(str(src)),
                           open_sink(f"sqlite:///{tmp / f'overhead{r}.db'}"),
                           batch_size=batch_size)
        full.append(time.perf_counter() - start)
        assert summary.docs == len(texts)
    print(f"overhead: {len(texts)} docs, batch {batch_size}: bare nlp.pipe "
          f"{min(bare):.2f} s, annotate {min(full):.2f} s, ratio {min(full) / min(bare):.3f} "
          f"(goal <= 1.15; all runs: bare {[round(b, 2) for b in bare]}, "
          f"annotate {[round(f, 2) for f in full]})")


def _child_memory(n: int, texts: List[str], tmp: Path) -> None:
    """Run in a fresh process: annotate n docs with the cheap pipeline; print peak RSS."""
    import spacy

    from spacy_biobert.annotate import annotate
    from spacy_biobert.io import open_sink, open_source
    from spacy_biobert.tokenizer import biomedical_tokenizer

    nlp = spacy.blank("en")
    nlp.tokenizer = biomedical_tokenizer(nlp)
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "CHEMICAL", "pattern": [{"LOWER": w}]}  # type: ignore
                        for w in ("lithium", "aspirin", "cocaine", "dopamine")])
    src = tmp / f"memory{n}.jsonl"
    write_jsonl(src, [texts[i % len(texts)] for i in range(n)])
    start = time.perf_counter()
    summary = annotate(nlp, open_source(str(src)), open_sink(f"sqlite:///{tmp}/memory{n}.db"),
                       batch_size=64)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"docs": summary.docs, "peak_rss_mb": peak_kb / 1024,
                      "seconds": seconds}))


def memory(texts_path: Path, small: int, large: int, tmp: Path) -> None:
    peaks = {}
    for n in (small, large):
        out = subprocess.run([sys.executable, __file__, "--memory-child", str(n),
                              "--texts", str(texts_path), "--tmp", str(tmp)],
                             capture_output=True, text=True, check=True)
        peaks[n] = json.loads(out.stdout.strip().splitlines()[-1])
    a, b = peaks[small], peaks[large]
    print(f"memory (cheap pipeline: tokenizer + entity ruler): peak RSS {small} docs "
          f"{a['peak_rss_mb']:.0f} MB, {large} docs {b['peak_rss_mb']:.0f} MB, ratio "
          f"{b['peak_rss_mb'] / a['peak_rss_mb']:.3f} ({b['seconds']:.1f} s for {large})")


class _TimedSink:
    """Wraps a sink to note when each batch arrives (steady state without start-up)."""

    def __init__(self, sink: Any) -> None:
        self.sink, self.times, self.sizes = sink, [], []  # type: ignore[var-annotated]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sink, name)

    def write(self, results: List[Any]) -> None:
        self.sink.write(results)
        self.times.append(time.perf_counter())
        self.sizes.append(len(results))

    def steady_rate(self) -> float:
        """Documents per second after the first batch arrived."""
        return sum(self.sizes[1:]) / (self.times[-1] - self.times[0])


def processes(model: str, texts: List[str], batch_size: int, tmp: Path,
              precision: Optional[str] = None) -> None:
    """n_process 2 vs 1, and what one process gets from its second torch thread."""
    from spacy_biobert.annotate import annotate
    from spacy_biobert.io import open_sink, open_source

    src = tmp / "processes.jsonl"
    write_jsonl(src, texts)
    runs = {"1 process, default threads": (1, None), "1 process, 1 thread": (1, 1),
            "2 processes, 1 thread each": (2, None)}
    times, rates = {}, {}
    for name, (n, threads) in runs.items():
        sink = _TimedSink(open_sink(str(tmp / f"processes{n}{threads}.jsonl")))
        start = time.perf_counter()
        summary = annotate(model, open_source(str(src)), sink, batch_size=batch_size,
                           n_process=n, threads=threads, precision=precision)
        times[name] = time.perf_counter() - start
        rates[name] = sink.steady_rate()
        assert summary.docs == len(texts)
        print(f"processes: {name}: {times[name]:.1f} s with start-up, "
              f"{rates[name]:.2f} docs/s after the first batch")
    one, single, two = (rates[k] for k in runs)
    print(f"processes ({precision or 'as saved'}): per core, 2 processes vs 1 process on 1 "
          f"thread: {two / 2 / single:.2f}x")
    print(f"processes: n_process 2 vs 1 (default threads): {two / one:.2f}x (goal >= 1.5); "
          f"vs 1 process on 1 thread: {two / single:.2f}x; one process gains "
          f"{one / single:.2f}x from torch's second thread, so the most two processes can "
          f"add over it is {os.cpu_count() or 1}/{one / single:.2f} = "
          f"{(os.cpu_count() or 1) / (one / single):.2f}x ({os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f} at the end)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="training/model-best")
    parser.add_argument("--texts", type=Path, default=Path("corpus/bc5cdr_dev.spacy"))
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--only", choices=["overhead", "memory", "processes"], default=None)
    parser.add_argument("--precision", default=None,
                        help="processes: transformer precision (fp32, int8, onnx, onnx-int8)")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        _child_memory(args.memory_child, load_texts(args.texts, 2000), args.tmp)
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        texts = load_texts(args.texts, args.docs)
        if args.only in (None, "overhead"):
            overhead(args.model, texts, args.batch_size, args.repeats, tmp)
        if args.only in (None, "memory"):
            memory(args.texts, args.small, args.large, tmp)
        if args.only in (None, "processes"):
            processes(args.model, texts, args.batch_size, tmp, args.precision)


if __name__ == "__main__":
    main()
