"""bench/species_dictionary.py: the species view without and with the dictionary, one pass."""
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin, Span

from spacy_biobert.extensions import install_extensions

TRAIN_TEXT = "Sheep and P . aeruginosa grew ."
DEV_TEXT = "P . aeruginosa RdgC binds . Sheep and sheep and hamster ."


def _docbin(nlp: spacy.Language, text: str, spans: list, path: Path) -> Path:
    doc = nlp.make_doc(text)
    doc.ents = [Span(doc, s, e, label="SPECIES") for s, e in spans]
    doc._.corpus = "linnaeus"
    doc._.annotated_labels = ("SPECIES",)
    DocBin(docs=[doc], store_user_data=True).to_disk(path)
    return path


def test_a_pipeline_without_the_dictionary_gets_one_and_both_are_scored(
        tmp_path: Path, tiny_mesh_file: Path, load_bench) -> None:  # type: ignore[no-untyped-def]
    install_extensions()
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")  # a "head" that knows only the capitalized Sheep
    ruler.add_patterns([{"label": "SPECIES", "pattern": "Sheep"}])  # type: ignore[attr-defined]
    nlp.add_pipe("biobert_entity_propagator", name="entity_propagator",
                 config={"labels": ["SPECIES"], "case_sensitive": False})
    train = _docbin(nlp, TRAIN_TEXT, [(0, 1), (2, 5)], tmp_path / "train.spacy")
    dev = _docbin(nlp, DEV_TEXT, [(0, 3), (6, 7), (8, 9), (10, 11)], tmp_path / "dev.spacy")
    module = load_bench("species_dictionary")
    name = module.ensure_dictionary(nlp, [str(train)], str(tiny_mesh_file))
    assert nlp.pipe_names == ["entity_ruler", "species_dictionary", "entity_propagator"]
    results = module.compare(nlp, [dev], name)["linnaeus"]
    # the propagator alone: both sheep; the dictionary adds P . aeruginosa (hamster:
    # a MeSH synonym, one word, never in training -> not a name)
    assert results["without"]["SPECIES"]["tp"] == 2
    assert results["with"]["SPECIES"]["tp"] == 3 and results["with"]["SPECIES"]["fp"] == 0
    assert results["added"]["right_texts"] == {"P . aeruginosa": 1}
    assert "| linnaeus | SPECIES | 66.67 (100.00 / 50.00) | 85.71" in module.markdown(
        {"linnaeus": results})
    # the pipeline's own dictionary is used as it is
    assert module.ensure_dictionary(nlp, [], None) == "species_dictionary"


def test_a_missing_dev_file_is_a_clear_error(tmp_path: Path, load_bench) -> None:  # type: ignore[no-untyped-def]
    install_extensions()
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_species_dictionary", name="species_dictionary")
    with pytest.raises(OSError, match="none.spacy: file not found"):
        bench = load_bench("species_dictionary")
        bench.compare(nlp, [tmp_path / "none.spacy"], "species_dictionary")
