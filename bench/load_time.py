"""How long ``spacy.load("en_biobert_ner")`` + the first doc take, how much memory the
loaded pipeline holds, and how big the package is — in the venv where it is installed.

Each repeat is a fresh interpreter (``python -I``: no source tree on sys.path), so the
import of torch/transformers/spaCy counts, as it does for a user. The first repeat may
read from a cold disk cache; the median of the repeats is the figure to quote.
``cpu_s`` (user + system CPU time of the process) is what the same run costs on an idle
machine, roughly: on a shared machine the wall time also holds the waits for a core.

    python bench/load_time.py --python packages/venv/bin/python \
        --wheel packages/en_biobert_ner-0.1.0/dist/en_biobert_ner-0.1.0-py3-none-any.whl

Goal: load + first doc <= 10 s on a 2-core CPU.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

GOAL_SECONDS = 10.0

CHILD = r"""
import json, os, resource, sys, time
t0 = time.perf_counter()
import spacy
t_import = time.perf_counter()
nlp = spacy.load(sys.argv[1])
t_load = time.perf_counter()

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")

rss_loaded = rss_mb()
doc = nlp("Famotidine-associated delirium: a series of six cases treated with lithium.")
t_doc = time.perf_counter()
print(json.dumps({
    "import_s": t_import - t0, "load_s": t_load - t_import, "first_doc_s": t_doc - t_load,
    "total_s": t_doc - t0,
    "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
    "rss_loaded_mb": rss_loaded, "rss_after_doc_mb": rss_mb(),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "ents": [(e.text, e.label_) for e in doc.ents],
    "package_dir": str(nlp.path), "threads": __import__("torch").get_num_threads(),
}))
"""


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(python: str, name: str, repeats: int) -> List[Dict[str, Any]]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    runs = []
    for i in range(repeats):
        out = subprocess.run([python, "-I", "-c", CHILD, name], capture_output=True,
                             text=True, env=env, check=False)
        if out.returncode != 0:
            sys.exit(f"run {i + 1} failed:\n{out.stderr[-3000:]}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable,
                        help="Interpreter of the venv the package is installed in")
    parser.add_argument("--name", default="en_biobert_ner")
    parser.add_argument("--wheel", type=Path, default=None, help="The built wheel (size)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="Also write JSON here")
    args = parser.parse_args()

    runs = measure(args.python, args.name, args.repeats)
    keys = ("import_s", "load_s", "first_doc_s", "total_s", "cpu_s", "rss_loaded_mb",
            "rss_after_doc_mb", "peak_rss_mb")
    median = {k: statistics.median(r[k] for r in runs) for k in keys}
    package_dir = Path(runs[0]["package_dir"])
    sizes = {"installed_mb": _dir_size(package_dir.parent) / 1e6}
    if args.wheel is not None and args.wheel.exists():
        sizes["wheel_mb"] = args.wheel.stat().st_size / 1e6
    print(f"package: {args.name} at {package_dir.parent} (torch threads: {runs[0]['threads']})")
    print(f"{'':24}" + "".join(f"run {i + 1:<6}" for i in range(len(runs))) + "median")
    for key in keys:
        cells = "".join(f"{r[key]:<10.2f}" for r in runs)
        print(f"{key:24}{cells}{median[key]:.2f}")
    for key, value in sizes.items():
        print(f"{key:24}{value:.1f}")
    ratio = median["total_s"] / GOAL_SECONDS
    verdict = "meets" if ratio <= 1 else "misses"
    print(f"load + first doc: {median['total_s']:.2f} s = {ratio:.2f} x the {GOAL_SECONDS:.0f} s "
          f"goal ({verdict} it)")
    print(f"first doc entities: {runs[-1]['ents']}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({"runs": runs, "median": median, **sizes}, indent=2))


if __name__ == "__main__":
    main()
