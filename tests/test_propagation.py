"""The entity propagator: other occurrences of a recognized entity text get its label."""
from pathlib import Path
from typing import List, Tuple

import pytest
import spacy
from spacy.tokens import Doc, Span

import spacy_biobert  # noqa: F401  (registers the factory)

TEXT = (
    "Wheat rust infects wheat . In wheat , the B . mallei strain differs . "
    "Wheat and wheat grow ."
)


def _with_ents(nlp: spacy.Language, ents: List[Tuple[int, int, str, str]]) -> Doc:
    doc = nlp.make_doc(TEXT)
    doc.ents = [Span(doc, s, e, label=lab, kb_id=kb) for s, e, lab, kb in ents]
    return doc


def _ents(doc: Doc) -> List[Tuple[str, int, str, str]]:
    return [(e.text, e.start, e.label_, e.kb_id_) for e in doc.ents]


@pytest.fixture()
def nlp() -> spacy.Language:
    return spacy.blank("en")


def test_other_occurrences_get_label_and_kb_id(nlp: spacy.Language) -> None:
    prop = nlp.add_pipe("biobert_entity_propagator")
    doc = _with_ents(nlp, [(3, 4, "SPECIES", "NCBITaxon:4565")])  # the first "wheat"
    assert doc[3].text == "wheat"
    out = prop(doc)
    wheats = [e for e in out.ents if e.text == "wheat"]
    assert [e.start for e in wheats] == [3, 6, 17]
    assert {e.kb_id_ for e in wheats} == {"NCBITaxon:4565"}
    # case-sensitive by default: "Wheat" stays untagged
    assert all(e.text != "Wheat" for e in out.ents)


def test_case_insensitive_matches_lower(nlp: spacy.Language) -> None:
    prop = nlp.add_pipe("biobert_entity_propagator", config={"case_sensitive": False})
    out = prop(_with_ents(nlp, [(3, 4, "SPECIES", "")]))
    assert sorted(e.start for e in out.ents) == [0, 3, 6, 15, 17]


def test_existing_entities_are_never_changed(nlp: spacy.Language) -> None:
    prop = nlp.add_pipe("biobert_entity_propagator", config={"case_sensitive": False})
    # "Wheat rust" is a DISEASE; "wheat" a SPECIES: the "Wheat" inside the disease
    # must not be split off, the two existing entities stay as they are.
    doc = _with_ents(nlp, [(0, 2, "DISEASE", ""), (3, 4, "SPECIES", "")])
    before = _ents(doc)
    out = prop(doc)
    after = _ents(out)
    assert all(ent in after for ent in before)
    assert ("Wheat", 0, "SPECIES", "") not in after
    assert ("Wheat rust", 0, "DISEASE", "") in after


def test_ambiguous_and_short_texts_are_left_alone(nlp: spacy.Language) -> None:
    prop = nlp.add_pipe("biobert_entity_propagator")
    # "wheat" named SPECIES once and CHEMICAL once: ambiguous -> no propagation
    ents = [(3, 4, "SPECIES", ""), (6, 7, "CHEMICAL", "")]
    assert _ents(prop(_with_ents(nlp, ents))) == _ents(_with_ents(nlp, ents))
    # ... also when only one of the two labels is propagated
    species_only = nlp.add_pipe("biobert_entity_propagator", name="species_only",
                                config={"labels": ["SPECIES"]})
    assert _ents(species_only(_with_ents(nlp, ents))) == _ents(_with_ents(nlp, ents))
    # "E2" is shorter than min_length (3 characters); "HIV" is not
    doc = nlp.make_doc("E2 and HIV ; E2 and HIV")
    doc.ents = [Span(doc, 0, 1, label="GENE_OR_GENE_PRODUCT"), Span(doc, 2, 3, label="SPECIES")]
    assert [e.text for e in prop(doc).ents] == ["E2", "HIV", "HIV"]


def test_labels_restrict_what_is_propagated(nlp: spacy.Language) -> None:
    prop = nlp.add_pipe("biobert_entity_propagator", config={"labels": ["CHEMICAL"]})
    out = prop(_with_ents(nlp, [(3, 4, "SPECIES", "")]))
    assert len(out.ents) == 1


def test_bad_min_length_is_a_clear_error(nlp: spacy.Language) -> None:
    with pytest.raises(ValueError, match="min_length"):
        nlp.add_pipe("biobert_entity_propagator", config={"min_length": 0})


def test_empty_and_entityless_docs_in_a_batch(nlp: spacy.Language) -> None:
    nlp.add_pipe("biobert_entity_propagator")
    docs = list(nlp.pipe(["", "   ", "no entities here", "x" * 10_000]))
    assert [len(d.ents) for d in docs] == [0, 0, 0, 0]


def test_saved_pipeline_keeps_settings(nlp: spacy.Language, tmp_path: Path) -> None:
    nlp.add_pipe("biobert_entity_propagator", config={"labels": ["SPECIES"], "min_length": 4})
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    prop = loaded.get_pipe("biobert_entity_propagator")
    assert prop.labels == {"SPECIES"} and prop.min_length == 4
    doc = loaded.make_doc(TEXT)
    doc.ents = [Span(doc, 3, 4, label="SPECIES")]
    assert len(prop(doc).ents) == 3


def test_default_labels_do_not_break_the_pipeline_meta(nlp: spacy.Language,
                                                       tmp_path: Path) -> None:
    nlp.add_pipe("biobert_entity_propagator")  # labels = None: every label
    assert "biobert_entity_propagator" not in nlp.meta["labels"]
    nlp.initialize()
    nlp.to_disk(tmp_path / "model")
    assert spacy.load(tmp_path / "model").pipe_names == ["biobert_entity_propagator"]
