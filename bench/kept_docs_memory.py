"""What holding annotated Docs costs: resident memory of ``list(nlp.pipe(texts))``,
with the pipeline's ``doc_cleaner`` (drops ``doc._.trf_data`` after the last listener)
and without it, each in a fresh interpreter, side by side.

    python bench/kept_docs_memory.py training/model-best --dev corpus/bc5cdr_dev.spacy \
        --limit 96

A pipeline trained before ``doc_cleaner`` was in the configs gets one added for the
"with" row. Figures: MB resident after loading; MB added by the pass that keeps its Docs
(the pipeline's own working memory included, which glibc keeps after a first pass, so
only the difference of the rows is the Docs'); transformer output held per kept Doc
(``doc._.trf_data`` arrays); entities found (equal in both rows).
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

CHILD = r"""
import json, sys
import spacy

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")

model, texts_file, batch_size = sys.argv[1], sys.argv[2], int(sys.argv[4])
cleaner = sys.argv[3] == "1"
texts = json.loads(open(texts_file).read())
nlp = spacy.load(model)
if cleaner and "doc_cleaner" not in nlp.pipe_names:
    nlp.add_pipe("doc_cleaner", config={"attrs": {"tensor": None, "_.trf_data": None}})
disable = [] if cleaner else [n for n in nlp.pipe_names if n == "doc_cleaner"]
nlp(texts[0])
loaded = rss_mb()
docs = list(nlp.pipe(texts, batch_size=batch_size, disable=disable))
kept = rss_mb()
held = sum(array.nbytes for doc in docs if doc._.trf_data is not None
           for array in doc._.trf_data.model_output.values())
print(json.dumps({"loaded_mb": round(loaded, 1), "kept_mb": round(kept - loaded, 1),
                  "trf_data_kb_per_doc": round(held / 1024 / len(docs), 1),
                  "entities": sum(len(d.ents) for d in docs)}))
"""


def dev_texts(path: Path, limit: int) -> List[str]:
    import spacy
    from spacy.tokens import DocBin

    docs = DocBin().from_disk(path).get_docs(spacy.blank("en").vocab)
    texts = [doc.text for doc in docs]
    return texts[:limit] if limit else texts


def run(model: Path, texts_file: Path, cleaner: bool, batch_size: int) -> Dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(model), str(texts_file),
                           "1" if cleaner else "0", str(batch_size)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="trained pipeline folder")
    parser.add_argument("--dev", type=Path, required=True, help="a .spacy file of texts")
    parser.add_argument("--limit", type=int, default=96, help="documents (0: all)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workdir", type=Path, default=Path("bench-kept-docs"))
    args = parser.parse_args(argv)
    if args.limit < 0 or args.batch_size < 1:
        parser.error("--limit must be >= 0 and --batch-size >= 1")
    args.workdir.mkdir(parents=True, exist_ok=True)
    texts_file = args.workdir / "texts.json"
    texts_file.write_text(json.dumps(dev_texts(args.dev, args.limit)))
    rows = {"without doc_cleaner": run(args.model, texts_file, False, args.batch_size),
            "with doc_cleaner": run(args.model, texts_file, True, args.batch_size)}
    print("| pipeline | RSS loaded MB | + pass keeping its Docs, MB | trf_data KB per Doc "
          "| entities |")
    print("|---|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['loaded_mb']} | {row['kept_mb']} | "
              f"{row['trf_data_kb_per_doc']} | {row['entities']} |")
    print(json.dumps(rows))
    return rows


if __name__ == "__main__":
    main()
