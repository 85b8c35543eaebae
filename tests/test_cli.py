"""The command line: convert (summary, errors, --strict, --label-map, --report)."""
import json
import subprocess
import sys
from pathlib import Path
from typing import Callable, List, Union

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_biobert.cli import app

WriteFile = Callable[[str, Union[str, bytes]], Path]

TITLE = "Lidocaine induced cardiac arrest."
ABSTRACT = "Naloxone reversed the hypotension."
TEXT = f"{TITLE} {ABSTRACT}"


def row(mention: str, type_: str, ids: str, text_mention: str = "") -> str:
    start = TEXT.index(mention)
    return f"100\t{start}\t{start + len(mention)}\t{text_mention or mention}\t{type_}\t{ids}"


TINY = "\n".join([
    f"100|t|{TITLE}",
    f"100|a|{ABSTRACT}",
    row("Lidocaine", "Chemical", "D008012"),
    row("cardiac arrest", "Disease", "D006323"),
    row("Naloxone", "Chemical", "D009270"),
    row("hypotension", "Disease", "D007022"),
    "100\tCID\tD008012\tD006323",
]) + "\n\n"

runner = CliRunner()


def invoke(args: List[str]):  # type: ignore[no-untyped-def]
    return runner.invoke(app, args, catch_exceptions=False)


def test_convert_help() -> None:
    result = invoke(["convert", "--help"])
    assert result.exit_code == 0
    assert "--label-map" in result.output
    assert "--strict" in result.output


def test_convert_pubtator(tmp_path: Path, write_file: WriteFile) -> None:
    src = write_file("tiny.txt", TINY)
    out = tmp_path / "out" / "tiny.spacy"
    result = invoke(["convert", "pubtator", str(src), str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    docs = list(DocBin(store_user_data=True).from_disk(out).get_docs(spacy.blank("en").vocab))
    assert len(docs) == 1
    assert docs[0]._.doc_id == "100"
    assert docs[0]._.corpus == "tiny"
    assert [(e.text, e.label_) for e in docs[0].ents] == [
        ("Lidocaine", "CHEMICAL"), ("cardiac arrest", "DISEASE"),
        ("Naloxone", "CHEMICAL"), ("hypotension", "DISEASE")]
    assert [(r.head_id, r.tail_id) for r in docs[0]._.entity_relations] == [
        ("MESH:D008012", "MESH:D006323")]
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["CHEMICAL", "2"] for line in lines), result.output
    assert any(line.split()[:2] == ["DISEASE", "2"] for line in lines), result.output
    assert any(line.split()[:2] == ["CID", "1"] for line in lines), result.output
    assert "Saved 1 documents" in result.output


def test_convert_corpus_name_and_limit(tmp_path: Path, write_file: WriteFile) -> None:
    second = TINY.replace("100", "200")
    src = write_file("tiny.txt", TINY + second)
    out = tmp_path / "tiny.spacy"
    result = invoke(["convert", "pubtator", str(src), str(out), "--corpus", "bc5cdr",
                     "--limit", "1"])
    assert result.exit_code == 0, result.output
    docs = list(DocBin(store_user_data=True).from_disk(out).get_docs(spacy.blank("en").vocab))
    assert [(d._.doc_id, d._.corpus) for d in docs] == [("100", "bc5cdr")]


def test_unknown_format(tmp_path: Path, write_file: WriteFile) -> None:
    src = write_file("tiny.txt", TINY)
    result = invoke(["convert", "xml", str(src), str(tmp_path / "o.spacy")])
    assert result.exit_code == 1
    for name in ("pubtator", "conll", "bioc", "brat"):
        assert name in result.output
    assert "'xml'" in result.output
    assert not (tmp_path / "o.spacy").exists()


def test_bad_file(tmp_path: Path, write_file: WriteFile) -> None:
    lines = TINY.splitlines()
    bad = lines[:3] + ["100\t0\tnine\tLidocaine\tChemical\tD008012"] + lines[4:]
    src = write_file("broken.txt", "\n".join(bad) + "\n")
    out = tmp_path / "o.spacy"
    result = invoke(["convert", "pubtator", str(src), str(out)])
    assert result.exit_code == 1
    assert "broken.txt:4" in result.output
    assert "malformed offsets" in result.output
    assert not out.exists()


def _warning_file(write_file: WriteFile) -> Path:
    start = TEXT.index("cardiac arrest")
    text = TINY.replace(row("cardiac arrest", "Disease", "D006323"),
                        f"100\t{start}\t{start + 14}\tcardiac  arrest\tDisease\tD006323")
    assert text != TINY
    return write_file("ws.txt", text)


def test_warning_is_reported(tmp_path: Path, write_file: WriteFile) -> None:
    result = invoke(["convert", "pubtator", str(_warning_file(write_file)),
                     str(tmp_path / "o.spacy")])
    assert result.exit_code == 0, result.output
    assert "mention_whitespace" in result.output
    assert "1 warning(s)" in result.output


def test_strict_turns_warning_into_error(tmp_path: Path, write_file: WriteFile) -> None:
    out = tmp_path / "o.spacy"
    result = invoke(["convert", "pubtator", str(_warning_file(write_file)), str(out),
                     "--strict"])
    assert result.exit_code == 1
    assert "ws.txt:4" in result.output
    assert "--strict" in result.output
    assert not out.exists()


def test_label_map(tmp_path: Path, write_file: WriteFile) -> None:
    src = write_file("foo.txt", TINY.replace("\tChemical\t", "\tFoo\t"))
    out = tmp_path / "o.spacy"
    failed = invoke(["convert", "pubtator", str(src), str(out)])
    assert failed.exit_code == 1
    assert "--label-map" in failed.output
    result = invoke(["convert", "pubtator", str(src), str(out), "--label-map", "Foo=CHEMICAL"])
    assert result.exit_code == 0, result.output
    docs = list(DocBin(store_user_data=True).from_disk(out).get_docs(spacy.blank("en").vocab))
    assert [e.label_ for e in docs[0].ents] == ["CHEMICAL", "DISEASE", "CHEMICAL", "DISEASE"]


def test_label_map_needs_equals(tmp_path: Path, write_file: WriteFile) -> None:
    src = write_file("tiny.txt", TINY)
    result = runner.invoke(app, ["convert", "pubtator", str(src), str(tmp_path / "o.spacy"),
                                 "--label-map", "Foo"])
    assert result.exit_code != 0
    assert "TYPE=LABEL" in result.output


def test_report_json(tmp_path: Path, write_file: WriteFile) -> None:
    src = write_file("tiny.txt", TINY)
    report = tmp_path / "metrics" / "r.json"
    result = invoke(["convert", "pubtator", str(src), str(tmp_path / "o.spacy"),
                     "--report", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["docs"] == 1
    assert data["mentions"] == 4
    assert data["entities"] == {"CHEMICAL": 2, "DISEASE": 2}
    assert data["relations"] == {"CID": 1}
    assert data["alignment_rate"] == 1.0
    assert data["input"] == str(src)


def test_convert_conll(tmp_path: Path, write_file: WriteFile) -> None:
    src = write_file("genes.tsv", "The\tO\np53\tB-GENE\ngene\tO\n\nBRCA1\tB-GENE\n")
    out = tmp_path / "g.spacy"
    result = invoke(["convert", "conll", str(src), str(out), "--sentences-per-doc", "1"])
    assert result.exit_code == 0, result.output
    docs = list(DocBin(store_user_data=True).from_disk(out).get_docs(spacy.blank("en").vocab))
    assert [d._.doc_id for d in docs] == ["genes-1", "genes-2"]


def test_version() -> None:
    from spacy_biobert import __version__

    result = invoke(["version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__


@pytest.mark.parametrize("args", [["--help"], ["convert", "--help"]])
def test_module_entry(args: List[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "spacy_biobert", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "convert" in proc.stdout
