"""Each component's share of ``nlp.pipe`` time, and what one component costs to load.

Runs a pipeline's components one after another over the same documents (each
component's ``pipe`` over the whole batch stream, as ``nlp.pipe`` does) and times each,
alternating for ``--rounds`` rounds. With ``--component NAME`` it also loads the
pipeline with and without that component in fresh interpreters and reports the load
time and resident memory it adds. Goals of the entity linker: at most +10 % of
``nlp.pipe`` time, +500 MB RSS and +3 s load.

    OMP_NUM_THREADS=2 python bench/component_costs.py training/model-best \\
        --data corpus/bc5cdr_dev.spacy --n-docs 100 --component entity_linker
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")

_LOAD_PROBE = """
import json, sys, time
t = time.perf_counter()
import spacy
exclude = [name for name in sys.argv[2:]]
nlp = spacy.load(sys.argv[1], exclude=exclude)
nlp("Lithium carbonate induced tremor in patients with nephrogenic diabetes insipidus (NDI).")
seconds = time.perf_counter() - t
rss = 0
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        rss = int(line.split()[1]) // 1024
print(json.dumps({"load_s": seconds, "rss_mb": rss}))
"""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="Pipeline name or path")
    parser.add_argument("--data", required=True, type=Path, help=".spacy file of documents")
    parser.add_argument("--n-docs", type=int, default=0, help="First N documents (0: all)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--component", default=None,
                        help="Also measure the load time and memory this component adds")
    parser.add_argument("--output", type=Path, default=None, help="Write the figures as JSON")
    return parser.parse_args(argv)


def time_components(nlp: Any, texts: List[str], batch_size: int) -> Dict[str, float]:
    """Seconds each component (and the tokenizer) takes over ``texts``."""
    seconds: Dict[str, float] = {}
    start = time.perf_counter()
    docs = [nlp.make_doc(text) for text in texts]
    seconds["tokenizer"] = time.perf_counter() - start
    for name, proc in nlp.pipeline:
        start = time.perf_counter()
        if hasattr(proc, "pipe"):
            docs = list(proc.pipe(docs, batch_size=batch_size))
        else:
            docs = [proc(doc) for doc in docs]
        seconds[name] = time.perf_counter() - start
    return seconds


def load_cost(model: str, component: str) -> Dict[str, float]:
    """Load time and RSS with and without ``component``, each in a fresh interpreter."""
    def probe(*exclude: str) -> Dict[str, float]:
        out = subprocess.run([sys.executable, "-c", _LOAD_PROBE, model, *exclude],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    with_it, without = probe(), probe(component)
    return {"load_s": round(with_it["load_s"], 2),
            "load_s_without": round(without["load_s"], 2),
            "added_load_s": round(with_it["load_s"] - without["load_s"], 2),
            "rss_mb": with_it["rss_mb"], "rss_mb_without": without["rss_mb"],
            "added_rss_mb": with_it["rss_mb"] - without["rss_mb"]}


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.load(args.model)
    docs = list(DocBin().from_disk(args.data).get_docs(nlp.vocab))
    texts = [doc.text for doc in (docs[: args.n_docs] if args.n_docs else docs)]
    totals: Dict[str, float] = {}
    for _ in range(args.rounds):
        for name, value in time_components(nlp, texts, args.batch_size).items():
            totals[name] = totals.get(name, 0.0) + value
    whole = sum(totals.values())
    figures: Dict[str, Any] = {
        "model": args.model, "docs": len(texts), "rounds": args.rounds,
        "words": sum(len(t.split()) for t in texts),
        "seconds": {name: round(value, 3) for name, value in totals.items()},
        "share_percent": {name: round(100 * value / whole, 2) for name, value in totals.items()},
    }
    if args.component:
        figures["load"] = load_cost(args.model, args.component)
    print(json.dumps(figures, indent=2))
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
