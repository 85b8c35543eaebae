"""What the species dictionary adds to a trained pipeline, side by side in one run.

Runs ``--model`` once over each dev file up to the species dictionary, then finishes
copies of the predictions with the entity propagator alone and with the dictionary
before it, and scores each corpus on the labels it annotates (strict spans, as
``evaluate``). A pipeline trained before the dictionary existed gets one, built as
``spacy train`` builds it: from ``--mesh`` and the ``--train`` files.

    python bench/species_dictionary.py --model training/model-best \\
        --data corpus/linnaeus_dev.spacy --output metrics/species_dictionary.json
"""
import argparse
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DICTIONARY = "biobert_species_dictionary"
PROPAGATOR = "biobert_entity_propagator"
TRAIN = ["corpus/bc5cdr_train.spacy", "corpus/ncbi_disease_train.spacy",
         "corpus/bc2gm_train.spacy", "corpus/linnaeus_train.spacy"]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="Trained pipeline")
    parser.add_argument("--data", nargs="+", type=Path,
                        default=[Path("corpus/linnaeus_dev.spacy")], help=".spacy dev files")
    parser.add_argument("--train", nargs="+", default=TRAIN,
                        help="Training files, for a pipeline without the dictionary")
    parser.add_argument("--mesh", default="assets/mesh/mesh_id_label_mappings.tsv",
                        help="MeSH descriptors TSV, for a pipeline without the dictionary "
                             "('': the training texts only)")
    parser.add_argument("--abbreviated-binomials", action=argparse.BooleanOptionalAction,
                        default=True, help="The added dictionary's abbreviated_binomials")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--output", type=Path, default=None, help="Write the figures as JSON")
    return parser.parse_args(argv)


def _component(nlp: Any, factory: str) -> Optional[str]:
    return next((name for name in nlp.pipe_names
                 if nlp.get_pipe_meta(name).factory == factory), None)


def ensure_dictionary(nlp: Any, train: List[str], mesh: Optional[str],
                      abbreviated_binomials: bool = True) -> str:
    """The dictionary's name in ``nlp``; added before the propagator and initialized
    from ``train`` and ``mesh`` (None or '': none) when the pipeline has none."""
    name = _component(nlp, DICTIONARY)
    if name is not None:
        return name
    from spacy_biobert.corpora.multi import create_multi_corpus

    propagator = _component(nlp, PROPAGATOR)
    where = {"before": propagator} if propagator else {}
    component = nlp.add_pipe(DICTIONARY, name="species_dictionary", **where,
                             config={"abbreviated_binomials": abbreviated_binomials})
    reader = create_multi_corpus(" ".join(train))
    component.initialize(lambda: reader(nlp), nlp=nlp, mesh_descriptors=mesh or None)
    return "species_dictionary"


def compare(nlp: Any, paths: List[Path], dictionary: str, *,
            batch_size: int = 16) -> Dict[str, Any]:
    """``{corpus: {"without"|"with": {label: prf}, "added": {...}}}``."""
    from spacy_biobert.evaluation import (
        annotated_labels,
        prf_summary,
        read_gold,
        score_docs,
        words_only,
    )

    names = nlp.pipe_names
    first = names.index(dictionary)
    propagator = _component(nlp, PROPAGATOR)
    finish = [nlp.get_pipe(propagator)] if propagator else []
    results: Dict[str, Any] = {}
    for path in paths:
        gold = read_gold(path, nlp.vocab)
        with nlp.select_pipes(disable=names[first:]):
            predicted = list(nlp.pipe((words_only(d, nlp.vocab) for d in gold),
                                      batch_size=batch_size))
        labels = annotated_labels(gold)
        runs: Dict[str, List[Any]] = {}
        for setting, steps in (("without", finish), ("with", [nlp.get_pipe(dictionary)]
                                                    + finish)):
            docs = []
            for doc in predicted:
                doc = doc.copy()
                for step in steps:
                    doc = step(doc)
                docs.append(doc)
            runs[setting] = docs
        corpus = gold[0]._.corpus or path.stem
        results[corpus] = {s: {label: prf_summary(score) for label, score in
                               score_docs(docs, gold, labels).items()}
                           for s, docs in runs.items()}
        results[corpus]["added"] = _added(runs["without"], runs["with"], gold)
    return results


def _added(without: List[Any], with_: List[Any], gold: List[Any]) -> Dict[str, Any]:
    """Species the dictionary adds to the species view, right and wrong, by text."""
    from spacy_biobert.ner.scorer import label_view

    right: Counter = Counter()
    wrong: Counter = Counter()
    for before, after, ref in zip(without, with_, gold):
        old = {(e.start_char, e.end_char) for e in label_view(before, {"SPECIES"})}
        golds = {(e.start_char, e.end_char) for e in ref.ents if e.label_ == "SPECIES"}
        for ent in label_view(after, {"SPECIES"}):
            key = (ent.start_char, ent.end_char)
            if key not in old:
                (right if key in golds else wrong)[ent.text] += 1
    return {"right": sum(right.values()), "wrong": sum(wrong.values()),
            "right_texts": dict(right.most_common(15)),
            "wrong_texts": dict(wrong.most_common(15))}


def markdown(results: Dict[str, Any]) -> str:
    lines = ["| dev set | label | without | with the dictionary | added right / wrong |",
             "|---|---|---:|---:|---:|"]
    for corpus, runs in results.items():
        for label, before in runs["without"].items():
            after = runs["with"][label]
            added = runs["added"]
            cells = [f"{s['f']:.2f} ({s['p']:.2f} / {s['r']:.2f})" for s in (before, after)]
            lines.append(f"| {corpus} | {label} | {cells[0]} | {cells[1]} | "
                         f"{added['right']} / {added['wrong']} |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    import spacy

    from spacy_biobert.extensions import install_extensions

    install_extensions()
    nlp = spacy.load(args.model)
    try:
        dictionary = ensure_dictionary(nlp, args.train, args.mesh,
                                       args.abbreviated_binomials)
        results = compare(nlp, args.data, dictionary, batch_size=args.batch_size)
    except (OSError, ValueError) as err:
        raise SystemExit(str(err)) from None
    print(markdown(results))
    for corpus, runs in results.items():
        print(f"{corpus}: added right {runs['added']['right_texts']}")
        print(f"{corpus}: added wrong {runs['added']['wrong_texts']}")
    if args.output is not None:
        args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
