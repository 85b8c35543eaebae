"""How the optimized transformer groups a batch's windows: the ``transformer`` component
alone (tokenization, windows, the runtime, alignment) over the same texts, at each
``max_batch_items`` (the documents per batch) and each number of padded word pieces per
run (``spacy_biobert.inference.batching.GROUP_TOKENS``; 0: one run per batch, every
window padded to the batch's longest, as spacy-transformers runs it), with the share of
computed positions that were padding. Best of ``--repeats`` passes.

    OMP_NUM_THREADS=1 python bench/window_groups.py training/model-best \
        --dev corpus/bc5cdr_dev.spacy --limit 100 --precision onnx-int8 \
        --group-tokens 0,256,512,1024,2048 --max-batch-items 1024,4096
"""
import argparse
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy

ONE_RUN = 10**9


def read_texts(dev: Path, limit: int) -> List[str]:
    import spacy
    from spacy.tokens import DocBin

    docs = DocBin().from_disk(dev).get_docs(spacy.blank("en").vocab)
    texts = [doc.text for doc in docs]
    return texts[:limit] if limit else texts


def measure(nlp: Any, texts: List[str], max_batch_items: int, group_tokens: int,
            repeats: int) -> Dict[str, Any]:
    """Seconds of the transformer component (best pass) and its padding share."""
    from spacy_biobert.inference import batching

    batching.GROUP_TOKENS = group_tokens or ONE_RUN
    component = nlp.get_pipe("transformer")
    component.cfg["max_batch_items"] = max_batch_items
    counts = {"real": 0, "padded": 0}
    split = batching.length_groups

    def counted(lengths: numpy.ndarray, max_tokens: int) -> List[numpy.ndarray]:
        groups = split(lengths, max_tokens)
        counts["real"] += int(lengths.sum())
        counts["padded"] += sum(len(g) * max(1, int(lengths[g].max())) for g in groups)
        return groups

    batching.length_groups = counted  # type: ignore[assignment]
    try:
        best = float("inf")
        for _ in range(repeats):
            counts.update(real=0, padded=0)
            docs = [nlp.make_doc(text) for text in texts]
            start = time.perf_counter()
            for _doc in component.pipe(docs, batch_size=32):
                pass
            best = min(best, time.perf_counter() - start)
    finally:
        batching.length_groups = split  # type: ignore[assignment]
    padding = 1 - counts["real"] / counts["padded"] if counts["padded"] else 0.0
    return {"max_batch_items": max_batch_items, "group_tokens": group_tokens,
            "seconds": best, "padding": round(100 * padding, 1)}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="trained pipeline folder (fp32)")
    parser.add_argument("--dev", type=Path, required=True, help="DocBin with the texts")
    parser.add_argument("--limit", type=int, default=100, help="first N docs (0: all)")
    parser.add_argument("--precision", default="onnx-int8",
                        help="int8, onnx or onnx-int8 (the precisions that group windows)")
    parser.add_argument("--group-tokens", default="0,512",
                        help="padded word pieces per run, comma-separated (0: one run)")
    parser.add_argument("--max-batch-items", default="1024", help="comma-separated")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, help="also write the rows as JSON")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    args = parse_args(argv)
    import spacy
    import torch

    import spacy_biobert

    if args.precision == "fp32":
        raise SystemExit("--precision: fp32 runs spacy-transformers' own batches; give "
                         "int8, onnx or onnx-int8")
    torch.set_num_threads(args.threads)
    nlp = spacy_biobert.optimize(spacy.load(args.model), args.precision)
    texts = read_texts(args.dev, args.limit)
    nlp(texts[0])
    rows = [measure(nlp, texts, int(items), int(tokens), args.repeats)
            for items in args.max_batch_items.split(",")
            for tokens in args.group_tokens.split(",")]
    print(f"| `max_batch_items` | word pieces per run | {args.precision} transformer s "
          "| padding % |")
    print("|---:|---:|---:|---:|")
    for row in rows:
        tokens = row["group_tokens"] or "one run"
        print(f"| {row['max_batch_items']} | {tokens} | {row['seconds']:.2f} | {row['padding']} |")
    if args.output:
        args.output.write_text(json.dumps(rows, indent=2), encoding="utf8")
    return rows


if __name__ == "__main__":
    main()
