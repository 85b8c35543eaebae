"""Throughput of NER alone vs NER + relations, side by side in one run.

The relation extractor reads the transformer output that the NER heads already
computed, so its cost is candidate building, mention pooling and a small MLP. This
script annotates the same documents with the pipeline without the relation extractor
(``nlp.select_pipes(disable=...)``) and with it, alternating the two for ``--rounds``
rounds (so that a change in machine load hits both), and prints words/s of each and
the slowdown ratio. Goal: adding relations costs at most 10 % throughput.

If the pipeline has no relation extractor, ``--relations-from`` names a pipeline to
source one from (its weights don't matter for speed, only its candidates do).

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 python bench/relations_speed.py \\
        --model training/model-best --data corpus/bc5cdr_dev.spacy --n-docs 100
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="Pipeline with NER (and relations)")
    parser.add_argument("--data", required=True, type=Path, help=".spacy file of documents")
    parser.add_argument("--relations-from", default=None,
                        help="Pipeline to source the relation extractor from, if --model has none")
    parser.add_argument("--n-docs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None, help="Write the figures as JSON")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    import spacy
    import torch
    from spacy.tokens import DocBin

    import spacy_biobert  # noqa: F401
    from spacy_biobert.relations.component import RelationExtractor

    torch.set_num_threads(args.threads)
    nlp = spacy.load(args.model)
    rel_names = [n for n, p in nlp.pipeline if isinstance(p, RelationExtractor)]
    if not rel_names:
        if not args.relations_from:
            sys.exit(f"{args.model} has no relation extractor; pass --relations-from")
        source = spacy.load(args.relations_from)
        name = next(n for n, p in source.pipeline if isinstance(p, RelationExtractor))
        nlp.add_pipe(name, source=source)
        rel_names = [name]
    texts = [d.text for d in DocBin().from_disk(args.data).get_docs(nlp.vocab)][: args.n_docs]
    words = sum(len(nlp.make_doc(t)) for t in texts)
    times: Dict[str, float] = {"ner": 0.0, "ner+relations": 0.0}
    n_relations = 0
    list(nlp.pipe(texts[:4], batch_size=args.batch_size))  # warm up
    for _ in range(args.rounds):
        for setting in ("ner", "ner+relations"):
            start = time.perf_counter()
            if setting == "ner":
                with nlp.select_pipes(disable=rel_names):
                    list(nlp.pipe(texts, batch_size=args.batch_size))
            else:
                docs = list(nlp.pipe(texts, batch_size=args.batch_size))
                n_relations = sum(len(d._.entity_relations) for d in docs)
            times[setting] += time.perf_counter() - start
    total = words * args.rounds
    result = {
        "documents": len(texts),
        "words": words,
        "rounds": args.rounds,
        "threads": args.threads,
        "ner_words_per_s": total / times["ner"],
        "ner_relations_words_per_s": total / times["ner+relations"],
        "slowdown_percent": 100.0 * (times["ner+relations"] / times["ner"] - 1.0),
        "entity_relations_predicted": n_relations,
    }
    print(f"documents: {len(texts)}, words: {words}, rounds: {args.rounds}, "
          f"threads: {args.threads}")
    print(f"NER only:        {result['ner_words_per_s']:8.1f} words/s")
    print(f"NER + relations: {result['ner_relations_words_per_s']:8.1f} words/s")
    print(f"relations cost:  {result['slowdown_percent']:+.1f} % time "
          f"(goal <= 10 %); ratio {times['ner+relations'] / times['ner']:.3f}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
