"""Building the unlabeled pretraining text from IOB files (``pretrain-text``)."""
import json
from pathlib import Path
from typing import List

import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_biobert.cli import app
from spacy_biobert.pretraining.text import build_pretraining_text, join_tokens, sentence_key


def write_iob(path: Path, sentences: List[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for sentence in sentences:
        lines.extend(f"{token}\tO" for token in sentence.split())
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path


def write_docbin(path: Path, texts: List[str]) -> Path:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    DocBin(docs=[nlp(text) for text in texts]).to_disk(path)
    return path


def test_join_tokens_closes_up_punctuation() -> None:
    assert join_tokens("cells ( 2 % ) were fixed , then stained .".split()) == \
        "cells (2%) were fixed, then stained."
    assert join_tokens(["5", "-", "bromo"]) == "5 - bromo"
    assert sentence_key("Cells (2%) were fixed.") == sentence_key("Cells ( 2 % ) were fixed .")


def test_build_drops_duplicates_and_labelled_sentences(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    write_iob(sources / "A-IOB" / "train.tsv",
              ["Aspirin caused bleeding .", "Cells were fixed .", "Aspirin caused bleeding ."])
    write_iob(sources / "B-IOB" / "devel.tsv", ["Cells were fixed .", "Mice were used ( n = 5 ) ."])
    labelled = write_docbin(tmp_path / "bc5cdr_train.spacy",
                            ["Nothing here. Mice were used (n = 5)."])
    out = tmp_path / "text" / "pretrain.txt"
    build = build_pretraining_text([sources], out, exclude=[labelled])
    assert out.read_text(encoding="utf8").splitlines() == [
        "Aspirin caused bleeding.", "Cells were fixed."]
    assert build.counts == {"sentences": 5, "duplicates": 2, "overlap": 1, "written": 2,
                            "excluded_sentences": 2}
    assert [Path(f).parent.name for f in build.files] == ["A-IOB", "B-IOB"]
    assert not list(out.parent.glob("*.tmp"))


def test_cli_writes_text_and_report(tmp_path: Path) -> None:
    source = write_iob(tmp_path / "x.tsv", ["One sentence .", "One sentence ."])
    out, report = tmp_path / "out.txt", tmp_path / "report.json"
    result = CliRunner().invoke(app, ["pretrain-text", str(source), "--output", str(out),
                                      "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf8") == "One sentence.\n"
    assert json.loads(report.read_text())["duplicates"] == 1
    missing = CliRunner().invoke(app, ["pretrain-text", str(tmp_path / "none.tsv"),
                                       "--output", str(out)])
    assert missing.exit_code == 1 and "none.tsv" in missing.output
