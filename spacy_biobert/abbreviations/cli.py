"""``python -m spacy_biobert evaluate-abbreviations``: P/R/F on derived gold pairs."""
import json
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from ..corpora.base import CorpusError
from .detector import DEFAULT_MIN_RELIABILITY


def evaluate_abbreviations_cmd(
    data: List[Path] = typer.Argument(..., help="PubTator files (BC5CDR, NCBI Disease)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Metrics JSON"),
    min_reliability: float = typer.Option(DEFAULT_MIN_RELIABILITY, "--min-reliability",
                                          help="The detector's threshold (0 to 1)"),
    examples: int = typer.Option(20, "--examples", help="Misses and errors to list"),
) -> None:
    """Score the abbreviation detector on definitions derived from entity annotations
    (a mention followed by a bracketed mention of the same concept)."""
    from .evaluation import evaluate_abbreviations

    try:
        metrics = evaluate_abbreviations(data, min_reliability=min_reliability,
                                         examples=examples)
    except (CorpusError, OSError) as err:
        msg.fail("Evaluation failed", str(err), exits=1)
        return
    rows = [(Path(name).name, m["gold_pairs"], m["precision"], m["recall"], m["f1"])
            for name, m in metrics["files"].items()]
    rows.append(("all", metrics["gold_pairs"], metrics["precision"], metrics["recall"],
                 metrics["f1"]))
    msg.table(rows, header=("file", "gold pairs", "P", "R", "F1"),
              aligns=("l", "r", "r", "r", "r"))
    same = metrics["same_end"]
    msg.text(f"long forms ending where the gold one ends: P {same['precision']} "
             f"R {same['recall']} F1 {same['f1']}")
    msg.text(f"{metrics['unjudged']} definition(s) found that the annotation cannot judge")
    for title in ("wrong", "missed"):
        if metrics[title]:
            msg.text(f"{title}:")
            for line in metrics[title]:
                msg.text(f"  {line}")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(metrics, indent=2))
        msg.good(f"Saved metrics to {output}")
