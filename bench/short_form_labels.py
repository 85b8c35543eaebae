"""What ``label_short_forms`` does to NER, label by label, on a trained pipeline.

Runs ``--model`` once over each dev file with the abbreviation detector and everything
after it disabled, then applies the detector to copies of the predictions under each
``--labels`` setting (comma-separated labels given to short forms; ``none``: no short
form labelled; ``all``: every label) and scores each corpus on the labels it annotates
(strict spans, as ``evaluate``). The heads run once, so the settings differ only in what
the detector adds.

    python bench/short_form_labels.py --model training/model-best \\
        --data corpus/bc5cdr_dev.spacy corpus/ncbi_disease_dev.spacy \\
        corpus/bc2gm_dev.spacy corpus/linnaeus_dev.spacy \\
        --labels none CHEMICAL,DISEASE all
"""
import argparse
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DETECTOR = "biobert_abbreviation_detector"


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="Trained pipeline with the detector")
    parser.add_argument("--data", required=True, nargs="+", type=Path,
                        help=".spacy dev files (one per corpus)")
    parser.add_argument("--labels", nargs="+", default=["none", "CHEMICAL,DISEASE", "all"],
                        help="Settings to compare: comma-separated labels, 'none' or 'all'")
    parser.add_argument("--n-docs", type=int, default=0, help="First N documents (0: all)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--output", type=Path, default=None, help="Write the figures as JSON")
    return parser.parse_args(argv)


def _setting(value: str) -> Optional[List[str]]:
    """The detector's ``labels`` for one ``--labels`` value ([] = label nothing)."""
    if value == "none":
        return []
    if value == "all":
        return None
    from spacy_biobert.labels import LABELS

    labels = [label.strip() for label in value.split(",") if label.strip()]
    unknown = [label for label in labels if label not in LABELS]
    if unknown or not labels:
        raise SystemExit(f"--labels {value!r}: {', '.join(unknown) or 'no label'} is not one "
                         f"of {', '.join(LABELS)} (or give 'none' or 'all')")
    return labels


def _predict(nlp: Any, path: Path, n_docs: int, batch_size: int) -> Dict[str, Any]:
    """Gold docs of one file and the pipeline's predictions up to the detector."""
    from spacy_biobert.evaluation import annotated_labels, read_gold, words_only

    names = [name for name, _ in nlp.pipeline]
    detector = next((name for name in names if nlp.get_pipe_meta(name).factory == DETECTOR),
                    None)
    if detector is None:
        raise SystemExit(f"{DETECTOR} is not in the pipeline ({', '.join(names)})")
    disabled = names[names.index(detector):]
    try:
        gold = read_gold(path, nlp.vocab, n_docs)
    except (OSError, ValueError) as err:
        raise SystemExit(str(err)) from None
    with nlp.select_pipes(disable=disabled):
        predicted = list(nlp.pipe((words_only(d, nlp.vocab) for d in gold),
                                  batch_size=batch_size))
    return {"name": gold[0]._.corpus or path.stem, "gold": gold, "predicted": predicted,
            "labels": annotated_labels(gold), "detector": nlp.get_pipe(detector)}


def score_settings(nlp: Any, paths: List[Path], settings: List[str], *, n_docs: int = 0,
                   batch_size: int = 16) -> Dict[str, Dict[str, Any]]:
    """``{corpus: {setting: {label: {p, r, f, tp, fp, fn}}}}`` for each setting."""
    from spacy_biobert.abbreviations.component import AbbreviationDetector
    from spacy_biobert.evaluation import prf_summary, score_docs
    from spacy_biobert.extensions import install_extensions

    install_extensions()
    for value in settings:  # refused before the pipeline runs
        _setting(value)
    results: Dict[str, Dict[str, Any]] = {}
    for path in paths:
        run = _predict(nlp, path, n_docs, batch_size)
        base = run["detector"]
        results[run["name"]] = {}
        for value in settings:
            labels = _setting(value)
            detector = AbbreviationDetector(nlp, min_reliability=base.min_reliability,
                                            label_short_forms=labels != [], labels=labels)
            docs = [detector(doc.copy()) for doc in run["predicted"]]
            scores = score_docs(docs, run["gold"], run["labels"])
            results[run["name"]][value] = {label: prf_summary(s) for label, s in scores.items()}
    return results


def markdown(results: Dict[str, Dict[str, Any]], settings: List[str]) -> str:
    """One row per corpus and label, F1 (P / R) per setting."""
    lines = ["| dev set | label | " + " | ".join(f"`{s}`" for s in settings) + " |",
             "|---|---|" + "---:|" * len(settings)]
    for corpus, by_setting in results.items():
        for label in by_setting[settings[0]]:
            cells = [by_setting[s][label] for s in settings]
            lines.append(f"| {corpus} | {label} | " + " | ".join(
                f"{c['f']:.2f} ({c['p']:.2f} / {c['r']:.2f})" for c in cells) + " |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    import spacy

    nlp = spacy.load(args.model)
    results = score_settings(nlp, args.data, args.labels, n_docs=args.n_docs,
                             batch_size=args.batch_size)
    print(markdown(results, args.labels))
    if args.output is not None:
        args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
