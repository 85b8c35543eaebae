"""displaCy rendering of entities and relation arcs: data, HTML, CLI, and the page as
headless Chromium draws it (DOM and screenshot)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from spacy_biobert.relations.items import EntityRelation, Relation
from spacy_biobert.visualize import (
    VisualizeError,
    entity_data,
    load_docs,
    read_texts,
    relation_data,
    render_html,
)

TEXT = "Famotidine - associated delirium in rats given cocaine ."


def _annotated(nlp: Language) -> Doc:
    doc = nlp.make_doc(TEXT)
    famotidine = Span(doc, 0, 1, label="CHEMICAL")
    delirium = Span(doc, 3, 4, label="DISEASE")
    cocaine = Span(doc, 7, 8, label="CHEMICAL")
    doc.ents = [famotidine, delirium, cocaine]
    doc._.doc_id = "PMID-1"
    doc._.relations = [Relation(famotidine, delirium, "CID", 0.91),
                       Relation(cocaine, delirium, "CID", 1.0)]
    return doc


def test_entity_data_uses_character_offsets(nlp: Language) -> None:
    data = entity_data(_annotated(nlp))
    assert data["title"] == "PMID-1"
    assert [(TEXT[e["start"]:e["end"]], e["label"]) for e in data["ents"]] == [
        ("Famotidine", "CHEMICAL"), ("delirium", "DISEASE"), ("cocaine", "CHEMICAL")]


def test_linked_entities_show_id_and_name(nlp: Language) -> None:
    doc = _annotated(nlp)
    doc.ents = [Span(doc, 0, 1, label="CHEMICAL", kb_id="MESH:D015738"), *doc.ents[1:]]
    doc.ents[0]._.kb_name = "Famotidine"
    ents = entity_data(doc)["ents"]
    assert (ents[0]["kb_id"], ents[0]["kb_url"]) == (
        "MESH:D015738 Famotidine", "https://meshb.nlm.nih.gov/record/ui?ui=D015738")
    assert "kb_id" not in ents[1]
    assert "MESH:D015738 Famotidine" in render_html([doc])


def test_relation_data_words_and_arc_directions(nlp: Language) -> None:
    data = relation_data(_annotated(nlp))
    assert data is not None
    words = [w["text"] for w in data["words"]]
    assert words == ["Famotidine", "- associated", "delirium", "in rats given", "cocaine", "."]
    assert [w["tag"] for w in data["words"]][:3] == ["CHEMICAL", "", "DISEASE"]
    # famotidine (0) -> delirium (2): arrow to the right; cocaine (4) -> delirium (2): left.
    assert data["arcs"] == [
        {"start": 0, "end": 2, "label": "CID 0.91", "dir": "right"},
        {"start": 2, "end": 4, "label": "CID", "dir": "left"},
    ]


def test_entity_relations_drawn_through_their_mentions(nlp: Language) -> None:
    doc = nlp.make_doc(TEXT)
    chem, dis = Span(doc, 0, 1, label="CHEMICAL"), Span(doc, 3, 4, label="DISEASE")
    doc.ents = [chem, dis]
    doc._.entity_relations = [EntityRelation("D1", "D2", "CID", 1.0, ((chem, dis),)),
                              EntityRelation("D3", "D4", "CID", 1.0, ())]
    data = relation_data(doc)
    assert data is not None and len(data["arcs"]) == 1


def test_no_relations_no_arc_view(nlp: Language) -> None:
    doc = nlp.make_doc(TEXT)
    doc.ents = [Span(doc, 0, 1, label="CHEMICAL")]
    assert relation_data(doc) is None
    page = render_html([doc])
    assert "CHEMICAL" in page and "displacy-arc" not in page


def test_long_gaps_are_shortened(nlp: Language) -> None:
    filler = " ".join(["word"] * 40)
    doc = nlp.make_doc(f"aspirin {filler} headache")
    a, b = Span(doc, 0, 1, label="CHEMICAL"), Span(doc, 41, 42, label="DISEASE")
    doc.ents = [a, b]
    doc._.relations = [Relation(a, b, "CID")]
    data = relation_data(doc)
    assert data is not None
    assert "…" in data["words"][1]["text"] and len(data["words"][1]["text"]) <= 40


def test_render_html_is_a_page_with_both_views(nlp: Language) -> None:
    page = render_html([_annotated(nlp)], title="demo")
    assert page.startswith("<!DOCTYPE html>") and "<title>demo</title>" in page
    assert page.count('class="displacy-arc"') == 2
    assert "CID 0.91" in page and 'data-doc="PMID-1"' in page


def test_read_texts_jsonl_and_errors(write_file) -> None:  # type: ignore[no-untyped-def]
    path = write_file("in.jsonl", '{"text": "aspirin", "id": "a"}\n\n{"text": "b"}\n')
    assert list(read_texts(path)) == [("aspirin", "a"), ("b", "in.jsonl:3")]
    bad = write_file("bad.jsonl", '{"text": "ok"}\n{"text": 3}\n')
    with pytest.raises(VisualizeError, match=r"bad.jsonl, line 2"):
        list(read_texts(bad))
    broken = write_file("broken.jsonl", "{not json\n")
    with pytest.raises(VisualizeError, match=r"line 1: invalid JSON"):
        list(read_texts(broken))


def test_load_docs_spacy_gold_and_predicted(trained_nlp: Language, tmp_path: Path) -> None:
    doc = trained_nlp.make_doc("Lithium and aspirin were given .")
    doc.ents = [Span(doc, 2, 3, label="CHEMICAL")]
    doc._.doc_id = "gold-1"
    path = tmp_path / "dev.spacy"
    DocBin(docs=[doc], store_user_data=True).to_disk(path)
    gold = load_docs(trained_nlp, path, gold=True)
    assert [(e.text, e.label_) for e in gold[0].ents] == [("aspirin", "CHEMICAL")]
    predicted = load_docs(trained_nlp, path)
    assert predicted[0]._.doc_id == "gold-1"
    assert ("Lithium", "CHEMICAL") in [(e.text, e.label_) for e in predicted[0].ents]
    with pytest.raises(VisualizeError, match="--gold needs a .spacy file"):
        load_docs(trained_nlp, _txt(tmp_path), gold=True)
    with pytest.raises(VisualizeError, match="no such file"):
        load_docs(trained_nlp, tmp_path / "missing.txt")


def _txt(tmp_path: Path) -> Path:
    path = tmp_path / "one.txt"
    path.write_text("Lithium and aspirin were given .\n")
    return path


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spacy_biobert", "visualize", *args],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, HF_HUB_OFFLINE="1"))


def test_cli_writes_page_and_names_bad_input(trained_nlp: Language, tmp_path: Path) -> None:
    model = tmp_path / "model"
    trained_nlp.to_disk(model)
    texts = tmp_path / "texts.txt"
    texts.write_text("Lithium and aspirin were given .\nBRCA1 is mutated in tumours .\n")
    out = tmp_path / "page.html"
    result = _run_cli(str(model), str(texts), "-o", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    page = out.read_text(encoding="utf8")
    assert "CHEMICAL" in page and "texts.txt:2" in page
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"txt": "x"}) + "\n")
    result = _run_cli(str(model), str(bad), "-o", str(tmp_path / "x.html"))
    assert result.returncode == 1
    # wasabi wraps long messages at the terminal width: compare with whitespace joined.
    assert "bad.jsonl, line 1" in " ".join((result.stdout + result.stderr).split())


# --- the page in a real browser -------------------------------------------------------


def _chromium() -> Optional[str]:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is missing on CI (bash .ci/chromium.sh installs it)")
    pytest.skip("chromium not installed (bash .ci/chromium.sh)")
    return None


def test_page_in_headless_chromium(nlp: Language, tmp_path: Path) -> None:
    chromium = _chromium()
    page = tmp_path / "page.html"
    page.write_text(render_html([_annotated(nlp)], title="relations"), encoding="utf8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    # The browser parsed both views: entity marks with their labels, arcs with labels.
    assert html.count('<mark class="entity"') == 3
    for label in ("CHEMICAL", "DISEASE"):
        assert label in html
    assert html.count('class="displacy-arc"') == 2
    assert html.count('class="displacy-arrowhead"') == 2
    assert "CID 0.91" in html
    shot = tmp_path / "shot.png"
    result = subprocess.run([chromium, *flags, "--hide-scrollbars", "--window-size=1200,700",
                             f"--screenshot={shot}", page.as_uri()],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 700)
    colours = dict((rgb, n) for n, rgb in image.getcolors(maxcolors=1_000_000) or [])
    # Not blank: text, entity backgrounds and arcs give many colours; CHEMICAL's
    # background (#7aecec) and DISEASE's (#fe8f8f) cover visible areas.
    assert len(colours) > 20
    assert colours.get((0x7A, 0xEC, 0xEC), 0) > 500
    assert colours.get((0xFE, 0x8F, 0x8F), 0) > 200
    # The arcs are drawn below the entity view: dark pixels in the lower part.
    lower = image.crop((0, 170, 1200, 700)).convert("L")
    assert sum(lower.histogram()[:100]) > 300
