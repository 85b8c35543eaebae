"""The species dictionary: MeSH organism names the training split agrees are species."""
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_biobert.extensions import install_extensions
from spacy_biobert.linking.vocab import read_mesh_organisms
from spacy_biobert.ner.dictionary import SpeciesDictionary, abbreviated_binomial
from spacy_biobert.ner.scorer import label_view

# (text, tagged species token ranges, labels the corpus annotates)
TRAINING: List[Tuple[str, List[Tuple[int, int]], Tuple[str, ...]]] = [
    ("Sheep and sheep cells .", [(0, 1), (2, 3)], ("SPECIES",)),
    ("The hamster cells and a hamster .", [], ("SPECIES",)),
    ("Mice were used .", [(0, 1)], ("SPECIES",)),
    ("Wild hamster ate .", [(1, 2)], ("SPECIES",)),
    # BC5CDR annotates no species: its untagged "sheep" says nothing
    ("sheep died of sheep pox .", [], ("CHEMICAL", "DISEASE")),
]


@pytest.fixture()
def nlp() -> spacy.Language:
    install_extensions()
    return spacy.blank("en")


def _examples(nlp: spacy.Language) -> List[Example]:
    examples = []
    for text, spans, labels in TRAINING:
        ref = nlp.make_doc(text)
        ref.ents = [Span(ref, s, e, label="SPECIES") for s, e in spans]
        ref._.annotated_labels = labels
        examples.append(Example(nlp.make_doc(text), ref))
    return examples


def _initialized(nlp: spacy.Language, mesh: Optional[Path],
                 **config: float) -> SpeciesDictionary:
    component = nlp.add_pipe("biobert_species_dictionary", config=config)
    component.initialize(lambda: _examples(nlp), nlp=nlp,
                         mesh_descriptors=str(mesh) if mesh else None)
    return component


def _doc(nlp: spacy.Language, text: str, ents: Sequence[Tuple[int, int, str]] = (),
         heads: Sequence[Tuple[int, int, str]] = ()) -> Doc:
    doc = nlp.make_doc(text)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    doc.spans["ner_heads"] = [Span(doc, s, e, label=label) for s, e, label in heads]
    return doc


def test_abbreviated_binomial() -> None:
    assert abbreviated_binomial("Pseudomonas aeruginosa") == ["P. aeruginosa",
                                                              "P . aeruginosa"]
    for name in ("Sheep", "Escherichia coli K12", "HIV type", "Bacillus Calmette"):
        assert abbreviated_binomial(name) == []


def test_organisms_are_taxa_of_the_organism_trees(tiny_mesh_file: Path) -> None:
    organisms = {c.name: c for c in read_mesh_organisms(tiny_mesh_file)}
    # "Animals, Domestic" names no taxon, Aspirin is no organism
    assert set(organisms) == {"Pseudomonas aeruginosa", "Sheep", "Cricetinae", "Mice"}
    assert organisms["Mice"].alt_ids == ("NCBITaxon:10090", "NCBITaxon:10092")
    assert organisms["Mice"].id == "MESH:D051379" and organisms["Mice"].label == "SPECIES"


def test_training_split_decides_which_names_are_kept(nlp: spacy.Language,
                                                     tiny_mesh_file: Path) -> None:
    component = _initialized(nlp, tiny_mesh_file)
    names = {" ".join(n) for n in component.names}
    assert {"sheep", "mice", "pseudomonas aeruginosa", "p . aeruginosa",
            "bacillus pyocyaneus"} <= names
    assert "hamster" not in names  # tagged 1 of 3 times in training documents
    assert "ovis" not in names and "mus" not in names  # one word, never in training
    assert "domestic animals" not in names  # not a taxon
    # a stricter share drops "sheep"? no: tagged 2 of 2; a looser one keeps "hamster"
    loose = _initialized(spacy.blank("en"), tiny_mesh_file, min_precision=0.3)
    assert ("hamster",) in loose.names
    # one-word names never seen in training are kept when one word is enough
    one_word = _initialized(spacy.blank("en"), tiny_mesh_file, min_unseen_words=1)
    assert ("ovis",) in one_word.names


def test_without_mesh_the_training_texts_are_the_names(nlp: spacy.Language) -> None:
    component = _initialized(nlp, None)
    assert component.names == [("mice",), ("sheep",)]  # "hamster": 1 of 3


def test_fills_gaps_and_never_displaces_a_head_entity(nlp: spacy.Language,
                                                      tiny_mesh_file: Path) -> None:
    component = _initialized(nlp, tiny_mesh_file)
    text = "P . aeruginosa RdgC binds the sheep a2 collagen gene of Sheep and a hamster ."
    gene = (6, 10, "GENE_OR_GENE_PRODUCT")
    doc = component(_doc(nlp, text, ents=[gene], heads=[gene]))
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("P . aeruginosa", "SPECIES"), ("sheep a2 collagen gene", "GENE_OR_GENE_PRODUCT"),
        ("Sheep", "SPECIES")]
    # "sheep" inside the gene: in the heads' layer, so the species view has it
    assert [(s.text, s.label_) for s in doc.spans["ner_heads"]] == [
        ("sheep a2 collagen gene", "GENE_OR_GENE_PRODUCT"), ("sheep", "SPECIES")]
    assert [e.text for e in label_view(doc, {"SPECIES"})] == ["P . aeruginosa", "sheep",
                                                              "Sheep"]
    assert [e.text for e in label_view(doc, {"GENE_OR_GENE_PRODUCT"})] == [
        "sheep a2 collagen gene"]


def test_a_species_head_entity_is_left_as_it_is(nlp: spacy.Language,
                                                tiny_mesh_file: Path) -> None:
    component = _initialized(nlp, tiny_mesh_file)
    # the head tagged "P . aeruginosa RdgC" (wrongly, but its own decision)
    doc = component(_doc(nlp, "P . aeruginosa RdgC binds .", ents=[(0, 4, "SPECIES")],
                         heads=[(0, 4, "SPECIES")]))
    assert [(e.start, e.end) for e in doc.ents] == [(0, 4)]
    assert len(doc.spans["ner_heads"]) == 1
    # abbreviated genus as most texts write it ("P." one token) matches too
    doc = component(nlp.make_doc("In P. aeruginosa and in mice ."))
    assert [e.text for e in doc.ents] == ["P. aeruginosa", "mice"]


def test_abbreviated_binomials_follow_the_training_split(nlp: spacy.Language) -> None:
    def initialized(texts: List[Tuple[str, List[Tuple[int, int]]]],
                    **config: bool) -> SpeciesDictionary:
        blank = spacy.blank("en")
        component = blank.add_pipe("biobert_species_dictionary", config=config)
        examples = []
        for text, spans in texts:
            ref = blank.make_doc(text)
            ref.ents = [Span(ref, s, e, label="SPECIES") for s, e in spans]
            examples.append(Example(blank.make_doc(text), ref))
        component.initialize(lambda: examples, nlp=blank)
        return component

    # "A . thaliana" tagged, "M . and" is no match (a stop word): the shape is kept
    tagged = [("A . thaliana and M . and E . coli grew .", [(0, 3), (7, 10)])]
    component = initialized(tagged)
    assert component.tag_shapes and component.names == [("a", ".", "thaliana"),
                                                         ("e", ".", "coli")]
    doc = component(nlp.make_doc("T . voinierianum , T. aestivum and S . FAECIUM , K . and"))
    assert [e.text for e in doc.ents] == ["T . voinierianum", "T. aestivum"]
    # untagged in training (initials of authors, say): the shape is not kept
    assert not initialized([("J . smith wrote it .", [])]).tag_shapes
    assert not initialized(tagged, abbreviated_binomials=False).tag_shapes


def test_saved_with_the_pipeline(nlp: spacy.Language, tiny_mesh_file: Path,
                                 tmp_path: Path) -> None:
    component = _initialized(nlp, tiny_mesh_file)
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.get_pipe("biobert_species_dictionary").names == component.names
    assert loaded.get_pipe("biobert_species_dictionary").tag_shapes is False  # none seen
    assert [e.text for e in loaded("Sheep and mice .").ents] == ["Sheep", "mice"]
    names = tmp_path / "pipeline" / "biobert_species_dictionary" / "names.json"
    names.write_text('{"format_version": 99, "names": []}', encoding="utf8")
    with pytest.raises(ValueError, match=r"names\.json: not a names file of format"):
        spacy.load(tmp_path / "pipeline")
    names.unlink()
    with pytest.raises(ValueError, match=r"names\.json: the dictionary's names file is missing"):
        spacy.load(tmp_path / "pipeline")


def test_an_uninitialized_dictionary_changes_nothing(nlp: spacy.Language) -> None:
    component = nlp.add_pipe("biobert_species_dictionary")
    doc = component(nlp.make_doc("Sheep and mice ."))
    assert not doc.ents and "ner_heads" not in doc.spans
    assert component(nlp.make_doc("")).ents == ()


def test_bad_vocabulary_and_settings_are_clear_errors(nlp: spacy.Language,
                                                      tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"species_dictionary\] mesh_descriptors: .*none\.tsv"):
        _initialized(nlp, tmp_path / "none.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("D012756\tSheep\tOvis\tB01\t9943\nnot a row\n", encoding="utf8")
    with pytest.raises(ValueError, match=r"mesh_descriptors: .*bad\.tsv:2: malformed MeSH "
                                         "descriptor line"):
        _initialized(spacy.blank("en"), bad)
    with pytest.raises(ValueError, match=r"min_precision must be within \[0, 1\]"):
        nlp.add_pipe("biobert_species_dictionary", name="d2", config={"min_precision": 1.5})
    with pytest.raises(ValueError, match="min_unseen_words must be at least 1"):
        nlp.add_pipe("biobert_species_dictionary", name="d3", config={"min_unseen_words": 0})
