"""Speed of the abbreviation detector: pairs/s and its share of ``nlp.pipe`` time.

Annotates the same documents with ``--model`` (a trained pipeline such as
``training/model-best``, or ``blank`` for the biomedical tokenizer alone) and times the
detector on the annotated Docs separately, alternating for ``--rounds`` rounds. The
share is detector time / (pipeline time + detector time): the detector's cost in a
pipeline that runs it after the heads. Goal: at most 2 % on the default pipeline. A blank
pipeline gives the detector's worst-case share (nothing else to do); ``transformer`` the
CPU profile's transformer pass without trained heads, when no trained pipeline exists.

    OMP_NUM_THREADS=1 python bench/abbreviations_speed.py --model training/model-best \\
        --data corpus/bc5cdr_dev.spacy --n-docs 100
    OMP_NUM_THREADS=1 python bench/abbreviations_speed.py --model transformer \\
        --data corpus/bc5cdr_dev.spacy --n-docs 100
"""
import argparse
import json
import os
import time
from pathlib import Path
from typing import Dict, List, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="blank",
                        help="Pipeline name or path; 'blank': the biomedical tokenizer only; "
                             "'transformer': it and the CPU profile's transformer")
    parser.add_argument("--data", required=True, type=Path, help=".spacy file of documents")
    parser.add_argument("--n-docs", type=int, default=0, help="First N documents (0: all)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--output", type=Path, default=None, help="Write the figures as JSON")
    return parser.parse_args(argv)


def _load(model: str):  # type: ignore[no-untyped-def]
    from spacy_biobert.cli import blank_biomedical

    if model == "blank":
        return blank_biomedical()
    if model == "transformer":
        # The CPU profile's transformer (embedded MiniLM) alone: the pass that dominates
        # the default pipeline's time, with no trained heads needed.
        from spacy.util import load_config

        config = load_config(Path(__file__).parent.parent / "configs" / "ner_cpu.cfg",
                             interpolate=True)
        block = dict(config["components"]["transformer"])
        block.pop("factory")
        nlp = blank_biomedical()
        nlp.add_pipe("transformer", config=block)
        nlp.initialize()
        return nlp
    import spacy

    return spacy.load(model)


def _adjacent(short, long) -> bool:  # type: ignore[no-untyped-def]
    """A definition (short form next to its long form), not a later use."""
    gap = short.start_char - long.end_char if short.start_char > long.start_char else (
        long.start_char - short.end_char)
    return gap <= 3


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    from spacy.tokens import DocBin

    from spacy_biobert.abbreviations.component import AbbreviationDetector
    from spacy_biobert.abbreviations.storage import abbreviation_pairs

    nlp = _load(args.model)
    detector = AbbreviationDetector(nlp)
    texts = [d.text for d in DocBin().from_disk(args.data).get_docs(nlp.vocab)]
    texts = texts[: args.n_docs] if args.n_docs else texts
    pipe_s = detect_s = 0.0
    pairs = uses = 0
    for _ in range(args.rounds):
        start = time.perf_counter()
        docs = list(nlp.pipe(texts, batch_size=args.batch_size))
        pipe_s += time.perf_counter() - start
        start = time.perf_counter()
        for doc in docs:
            detector(doc)
        detect_s += time.perf_counter() - start
        pairs = sum(sum(1 for short, long in abbreviation_pairs(d) if _adjacent(short, long))
                    for d in docs)
        uses = sum(len(d._.abbreviations) for d in docs)
    chars = sum(len(t) for t in texts) * args.rounds
    out = {
        "model": args.model, "documents": len(texts), "rounds": args.rounds,
        "definitions": pairs, "short_forms": uses,
        "pipe_s": round(pipe_s, 3), "detector_s": round(detect_s, 3),
        "pairs_per_s": round(pairs * args.rounds / detect_s, 1),
        "docs_per_s": round(len(texts) * args.rounds / detect_s, 1),
        "chars_per_s": round(chars / detect_s),
        "share_of_pipe": round(100 * detect_s / (pipe_s + detect_s), 2),
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    return out


if __name__ == "__main__":
    main()
