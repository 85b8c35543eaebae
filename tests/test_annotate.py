"""annotate: every source and sink, resumable files, and bad input (SQLite, files).

Most tests use a rule-based pipeline (entities with KB ids and relations set by a
small component) so that sinks are checked on relations too; the trained tiny-BERT
pipeline checks that a real model's entities arrive identically from every source.
"""
import json
import sqlite3
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from spacy_biobert.annotate import annotate
from spacy_biobert.corpora.base import ConversionReport
from spacy_biobert.corpora.bioc import parse_bioc
from spacy_biobert.corpora.pubtator import parse_pubtator
from spacy_biobert.io import AnnotateError, open_sink, open_source
from spacy_biobert.linking.kb import LinkingKB
from spacy_biobert.linking.vocab import Concept
from spacy_biobert.relations.items import EntityRelation, Relation
from spacy_biobert.tokenizer import biomedical_tokenizer

RULES = {"lithium": ("CHEMICAL", "D008094"), "seizures": ("DISEASE", "D012640")}


@Language.component("test_annotate_rules")
def _rules(doc: Doc) -> Doc:
    """Entities for two words, and CID relations between them (mention and entity level)."""
    doc.ents = [Span(doc, t.i, t.i + 1, label=RULES[t.lower_][0], kb_id=RULES[t.lower_][1])
                for t in doc if t.lower_ in RULES]
    chems = [e for e in doc.ents if e.label_ == "CHEMICAL"]
    dis = [e for e in doc.ents if e.label_ == "DISEASE"]
    pairs = tuple((c, d) for c in chems for d in dis)
    doc._.relations = [Relation(c, d, "CID", 0.75) for c, d in pairs]
    doc._.entity_relations = ([EntityRelation("D008094", "D012640", "CID", 0.5, pairs)]
                              if pairs else [])
    return doc


@pytest.fixture
def rule_nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = biomedical_tokenizer(nlp)
    nlp.add_pipe("test_annotate_rules")
    nlp.meta.update(name="rules", version="1.2.3")
    return nlp


TEXTS = {
    "a": "Lithium caused seizures .",
    "b": "No finding here .",
    "c": "Seizures after lithium\nand lithium again .",
}


def _write_sources(tmp_path: Path) -> Dict[str, Tuple[str, dict]]:
    """The same three documents in every input format: name -> (spec, options)."""
    folder = tmp_path / "txt"
    folder.mkdir()
    for key, text in TEXTS.items():
        (folder / f"{key}.txt").write_text(text, encoding="utf8")
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps({"id": k, "text": t}) + "\n" for k, t in TEXTS.items()))
    pubtator = tmp_path / "in.pubtator"
    # PubTator text is title + " " + abstract; c's line break is not allowed there, so
    # title/abstract split it (same text up to that one character).
    pubtator.write_text(
        "a|t|Lithium caused seizures .\na|a|\n0\t0\t7\tLithium\tChemical\tD008094\n\n"
        "b|t|No finding here .\n\n"
        "c|t|Seizures after lithium\nc|a|and lithium again .\n\n")
    passages = {k: t.replace("\n", " ") for k, t in TEXTS.items()}
    xml = tmp_path / "in.xml"
    xml.write_text(
        "<?xml version='1.0' encoding='utf-8'?><collection><source/><date/><key/>"
        + "".join(f"<document><id>{k}</id><passage><offset>0</offset><text>{t}</text>"
                  "</passage></document>" for k, t in passages.items())
        + "</collection>")
    bioc_json = tmp_path / "in.json"
    bioc_json.write_text(json.dumps({"source": "", "date": "", "key": "", "infons": {},
                                     "documents": [{"id": k, "infons": {}, "relations": [],
                                                    "annotations": [],
                                                    "passages": [{"offset": 0, "infons": {},
                                                                  "text": t, "sentences": [],
                                                                  "annotations": [],
                                                                  "relations": []}]}
                                                   for k, t in passages.items()]}))
    db = tmp_path / "in.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE abstracts (pmid TEXT, body TEXT)")
        conn.executemany("INSERT INTO abstracts VALUES (?, ?)", TEXTS.items())
    return {
        "txt": (str(folder), {}),
        "jsonl": (str(jsonl), {}),
        "pubtator": (str(pubtator), {}),
        "bioc-xml": (str(xml), {}),
        "bioc-json": (str(bioc_json), {}),
        "sqlite": (f"sqlite:///{db}", {"table": "abstracts", "id_column": "pmid",
                                       "text_column": "body"}),
    }


def _ents(path: Path) -> Dict[str, List[Tuple[int, int, str]]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {r["id"]: [(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in rows}


def test_every_source_gives_the_same_entities(tmp_path: Path, trained_nlp: Language) -> None:
    outputs = {}
    for name, (spec, options) in _write_sources(tmp_path).items():
        out = tmp_path / f"out-{name}.jsonl"
        summary = annotate(trained_nlp, open_source(spec, **options), open_sink(str(out)),
                           batch_size=2)
        assert summary.docs == 3 and not summary.skipped, name
        outputs[name] = _ents(out)
    expected = {k: [(s.start_char, s.end_char, s.label_) for s in trained_nlp(t.replace(
        "\n", " ")).ents] for k, t in TEXTS.items()}
    assert any(expected.values()), "the trained pipeline should find something"
    for name, got in outputs.items():
        assert got == expected, name


def test_jsonl_and_sql_sinks_hold_entities_relations_and_model(
        tmp_path: Path, rule_nlp: Language) -> None:
    spec, _ = _write_sources(tmp_path)["jsonl"]
    out = tmp_path / "out.jsonl"
    summary = annotate(rule_nlp, open_source(spec), open_sink(str(out)), batch_size=2)
    assert summary.entities == {"CHEMICAL": 3, "DISEASE": 2}
    assert summary.relations == {"CID (mention)": 3, "CID (entity)": 2}
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["c"]["text"] == TEXTS["c"]
    assert rows["a"]["model"] == "en_rules" and rows["a"]["model_version"] == "1.2.3"
    assert [(e["text"], e["kb_id"]) for e in rows["a"]["entities"]] == [
        ("Lithium", "D008094"), ("seizures", "D012640")]
    kinds = sorted((r["kind"], r["head_id"], r["score"]) for r in rows["c"]["relations"])
    assert kinds == [("entity", "D008094", 0.5), ("mention", "D008094", 0.75),
                     ("mention", "D008094", 0.75)]

    db = tmp_path / "out.db"
    annotate(rule_nlp, open_source(spec), open_sink(f"sqlite:///{db}"), batch_size=2)
    with sqlite3.connect(db) as conn:
        docs = conn.execute("SELECT doc_id, n_entities, n_relations, model, model_version "
                            "FROM documents ORDER BY doc_id").fetchall()
        assert docs == [("a", 2, 2, "en_rules", "1.2.3"), ("b", 0, 0, "en_rules", "1.2.3"),
                        ("c", 3, 3, "en_rules", "1.2.3")]
        ents = conn.execute("SELECT doc_id, start_char, end_char, text, label, kb_id "
                            "FROM entities WHERE doc_id = 'a' ORDER BY start_char").fetchall()
        assert ents == [("a", 0, 7, "Lithium", "CHEMICAL", "D008094"),
                        ("a", 15, 23, "seizures", "DISEASE", "D012640")]
        rels = conn.execute("SELECT kind, label, score, head_id, tail_id, head_start, tail_start"
                            " FROM relations WHERE doc_id = 'a' ORDER BY kind").fetchall()
        assert rels == [("entity", "CID", 0.5, "D008094", "D012640", None, None),
                        ("mention", "CID", 0.75, "D008094", "D012640", 0, 15)]


@Language.component("test_annotate_unlinked")
def _unlinked(doc: Doc) -> Doc:
    """The rules' entities without ids, for the entity linker to fill in."""
    doc.ents = [Span(doc, t.i, t.i + 1, label=RULES[t.lower_][0])
                for t in doc if t.lower_ in RULES]
    return doc


@pytest.fixture
def linked_nlp(rule_nlp: Language) -> Language:
    """Rule entities, then the entity linker on a two-name KB (seizures: NIL)."""
    nlp = rule_nlp
    nlp.replace_pipe("test_annotate_rules", "test_annotate_unlinked")
    kb = LinkingKB("test")
    kb.add_concept(Concept("MESH:D008094", "CHEMICAL", "Lithium", ["Li"]))
    kb.build_index()
    nlp.add_pipe("biobert_entity_linker").kb = kb
    return nlp


def test_every_sink_holds_linked_ids_and_names(tmp_path: Path, linked_nlp: Language) -> None:
    spec, _ = _write_sources(tmp_path)["jsonl"]
    out = tmp_path / "out.jsonl"
    annotate(linked_nlp, open_source(spec), open_sink(str(out)))
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    got = [(e["text"], e["kb_id"], e["kb_name"], e["kb_score"]) for e in rows["a"]["entities"]]
    assert got == [("Lithium", "MESH:D008094", "Lithium", pytest.approx(1.25)),
                   ("seizures", None, None, None)]
    db = tmp_path / "out.db"
    annotate(linked_nlp, open_source(spec), open_sink(f"sqlite:///{db}"))
    with sqlite3.connect(db) as conn:
        ents = conn.execute("SELECT text, kb_id, kb_name FROM entities WHERE doc_id = 'a' "
                            "ORDER BY start_char").fetchall()
    assert ents == [("Lithium", "MESH:D008094", "Lithium"), ("seizures", None, None)]
    for suffix in (".xml", ".json"):
        bioc = tmp_path / f"out{suffix}"
        annotate(linked_nlp, open_source(spec), open_sink(str(bioc)))
        text = bioc.read_text()
        assert "MESH:D008094" in text and "link_score" in text, suffix
        raws = {raw.doc_id: raw for raw in parse_bioc(bioc, report=ConversionReport())}
        assert [m.ids for m in raws["a"].mentions] == [("MESH:D008094",), ()], suffix


def test_sql_tables_of_an_older_version_are_named(tmp_path: Path, rule_nlp: Language) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE entities (id INTEGER PRIMARY KEY, doc_id TEXT, kb_id TEXT)")
    spec, _ = _write_sources(tmp_path)["jsonl"]
    with pytest.raises(AnnotateError, match="'entities'.*lacks the column.*kb_name"):
        annotate(rule_nlp, open_source(spec), open_sink(f"sqlite:///{db}"))


@pytest.mark.parametrize("suffix", [".pubtator", ".xml", ".json"])
def test_pubtator_and_bioc_sinks_read_back_with_the_corpus_readers(
        tmp_path: Path, rule_nlp: Language, suffix: str) -> None:
    spec, _ = _write_sources(tmp_path)["jsonl"]
    out = tmp_path / f"out{suffix}"
    annotate(rule_nlp, open_source(spec), open_sink(str(out)), batch_size=2)
    parse = parse_pubtator if suffix == ".pubtator" else parse_bioc
    raws = {raw.doc_id: raw for raw in parse(out, report=ConversionReport())}
    assert sorted(raws) == ["a", "b", "c"]
    assert raws["c"].text.replace("\n", " ") == TEXTS["c"].replace("\n", " ")
    assert [(m.start, m.end, m.label, m.ids) for m in raws["a"].mentions] == [
        (0, 7, "CHEMICAL", ("D008094",)), (15, 23, "DISEASE", ("D012640",))]
    entity_pairs = [(r.label, r.head, r.tail) for r in raws["a"].relations
                    if r.between == "entities"]
    assert ("CID", "D008094", "D012640") in entity_pairs
    if suffix != ".pubtator":  # BioC also keeps the mention pairs
        assert any(r.between == "mentions" for r in raws["c"].relations)


@pytest.mark.parametrize("suffix", [".jsonl", ".pubtator", ".xml", ".json"])
def test_file_sink_resumes_after_a_cut_write(tmp_path: Path, rule_nlp: Language,
                                             suffix: str) -> None:
    """A write cut short (as by kill -9) is cut back; the rerun adds only what is missing."""
    spec, _ = _write_sources(tmp_path)["jsonl"]
    out = tmp_path / f"out{suffix}"
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps({"id": "a", "text": TEXTS["a"]}) + "\n")
    annotate(rule_nlp, open_source(str(first)), open_sink(str(out)))
    with out.open("ab") as f:  # half a document, as a killed writer leaves it
        f.write(b'{"id": "b", "text": "No fin' if suffix in (".jsonl", ".json")
                else b"b|t|No finding" if suffix == ".pubtator" else b"<document><id>b</id>")
    summary = annotate(rule_nlp, open_source(spec), open_sink(str(out)), batch_size=2)
    assert (summary.already_done, summary.docs) == (1, 2)
    if suffix == ".jsonl":
        ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    else:
        parse = parse_pubtator if suffix == ".pubtator" else parse_bioc
        ids = [raw.doc_id for raw in parse(out, report=ConversionReport())]
    assert sorted(ids) == ["a", "b", "c"]
    again = annotate(rule_nlp, open_source(spec), open_sink(str(out)))
    assert (again.already_done, again.docs) == (3, 0)


def test_file_sink_refuses_a_file_it_did_not_write(tmp_path: Path, rule_nlp: Language) -> None:
    spec, _ = _write_sources(tmp_path)["jsonl"]
    out = tmp_path / "notes.jsonl"
    out.write_text('{"note": 1}\n{"note": 2}\n')
    with pytest.raises(AnnotateError, match="not a document written by annotate"):
        annotate(rule_nlp, open_source(spec), open_sink(str(out)))
    assert out.read_text() == '{"note": 1}\n{"note": 2}\n'


# --- bad input -------------------------------------------------------------------------


def test_bad_rows_are_counted_skips(tmp_path: Path, rule_nlp: Language) -> None:
    db = tmp_path / "in.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE abstracts (pmid INTEGER, text TEXT)")
        conn.executemany("INSERT INTO abstracts VALUES (?, ?)", [
            (1, "Lithium caused seizures ."), (2, None), (3, "   "), (1, "a duplicate id"),
            (None, "no id"), (4, b"\xff\xfe not UTF-8"), (5, "Seizures again ."),
        ])
    out = tmp_path / "out.jsonl"
    summary = annotate(rule_nlp, open_source(f"sqlite:///{db}", table="abstracts",
                                             id_column="pmid"), open_sink(str(out)))
    assert summary.docs == 2
    assert summary.skipped == {"empty or null text": 2, "duplicate id": 1, "null id": 1,
                               "text is not UTF-8 (byte 0)": 1}
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["text"]) for r in rows] == [("1", "Lithium caused seizures ."),
                                                   ("5", "Seizures again .")]


def test_non_utf8_files_and_lines_are_counted_skips(tmp_path: Path, rule_nlp: Language) -> None:
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "good.txt").write_text("Lithium .")
    (folder / "latin1.txt").write_bytes("Lithium caus\xe9 .".encode("latin-1"))
    summary = annotate(rule_nlp, open_source(str(folder)), open_sink(str(tmp_path / "o1.jsonl")))
    assert summary.docs == 1 and sum(summary.skipped.values()) == 1
    assert "not UTF-8" in next(iter(summary.skipped))
    assert "latin1.txt" in summary.examples[0]

    jsonl = tmp_path / "in.jsonl"
    jsonl.write_bytes(b'{"id": "1", "text": "Lithium ."}\n{"id": "2", "text": "caus\xe9"}\n'
                      b'{"id": "3", "text": \n{"text": "no id"}\n')
    summary = annotate(rule_nlp, open_source(str(jsonl)), open_sink(str(tmp_path / "o2.jsonl")))
    assert summary.docs == 1
    assert sum(summary.skipped.values()) == 3
    assert any(r.startswith("malformed JSON") for r in summary.skipped)
    assert any(e.endswith("in.jsonl:2") for e in summary.examples)


def test_a_million_character_document(tmp_path: Path, rule_nlp: Language) -> None:
    """1,000,000 characters (spaCy's max_length) is annotated; one more is a counted skip."""
    # Chemicals only: the rule component pairs every chemical with every disease.
    text = ("Lithium was given again . " * 40_000)[:1_000_000]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({"id": "big", "text": text}) + "\n"
                     + json.dumps({"id": "bigger", "text": text + "x"}) + "\n")
    out = tmp_path / "out.jsonl"
    summary = annotate(rule_nlp, open_source(str(jsonl)), open_sink(str(out)))
    assert summary.docs == 1
    assert summary.entities["CHEMICAL"] == 38_462  # one per 26-character sentence
    assert summary.skipped == {"longer than --max-length 1,000,000 characters": 1}


@pytest.mark.parametrize("options, message", [
    ({"table": "missing"}, "table 'missing' does not exist"),
    ({"table": "abstracts", "text_column": "body"}, "column 'body' does not exist"),
    ({"table": "abstracts; DROP TABLE x"}, "table 'abstracts; DROP TABLE x' does not exist"),
    ({"table": "abstracts", "id_column": "pmid FROM x; DROP TABLE x; --"}, "does not exist"),
    ({"table": 'abstracts" ; DROP TABLE x; --'}, "does not exist"),
])
def test_unknown_or_injected_sql_names_are_rejected(tmp_path: Path, options: dict,
                                                    message: str) -> None:
    db = tmp_path / "in.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE abstracts (pmid INTEGER, text TEXT)")
        conn.execute("CREATE TABLE x (y INTEGER)")
    options = {"id_column": "pmid", **options}
    with pytest.raises(AnnotateError, match=message):
        open_source(f"sqlite:///{db}", **options)
    with pytest.raises(AnnotateError, match="table-prefix"):
        open_sink(f"sqlite:///{db}", table_prefix="x; DROP TABLE x; --")
    with sqlite3.connect(db) as conn:
        assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master")} == {"abstracts", "x"}


def test_unreachable_databases_are_clear_errors(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(AnnotateError, match=r"cannot connect to postgresql.*\*\*\*@127.0.0.1:1"):
        open_sink("postgresql://user:secret@127.0.0.1:1/nowhere")
    with pytest.raises(AnnotateError, match="cannot connect to sqlite"):
        open_source(f"sqlite:///{tmp_path}/no/such/folder/x.db", table="t")


def test_threads_option_sets_and_restores_torch_threads(tmp_path: Path,
                                                        rule_nlp: Language) -> None:
    import torch

    seen: List[int] = []

    @Language.component("test_annotate_thread_probe")
    def probe(doc: Doc) -> Doc:
        seen.append(torch.get_num_threads())
        return doc

    rule_nlp.add_pipe("test_annotate_thread_probe")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in TEXTS.items()))
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    summary = annotate(rule_nlp, open_source(str(src)), open_sink(str(tmp_path / "o.jsonl")),
                       threads=target)
    assert summary.docs == 3 and set(seen) == {target}
    assert torch.get_num_threads() == before
    with pytest.raises(AnnotateError, match="--threads"):
        annotate(rule_nlp, open_source(str(src)), open_sink(str(tmp_path / "p.jsonl")),
                 threads=0)
