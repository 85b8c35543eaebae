"""bench/short_form_labels.py scores each label_short_forms setting from one pass."""
from pathlib import Path

import spacy
from spacy.tokens import DocBin, Span

from spacy_biobert.extensions import install_extensions

TEXT = ("Nephrogenic diabetes insipidus (NDI) and tumor necrosis factor (TNF) were studied . "
        "NDI raised TNF .")


def test_settings_differ_only_in_the_labelled_short_forms(tmp_path: Path, load_bench) -> None:  # type: ignore[no-untyped-def]
    install_extensions()
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([  # type: ignore[attr-defined]
        {"label": "DISEASE", "pattern": "Nephrogenic diabetes insipidus"},
        {"label": "GENE_OR_GENE_PRODUCT", "pattern": "tumor necrosis factor"}])
    nlp.add_pipe("biobert_abbreviation_detector", name="abbreviation_detector")
    gold = nlp.make_doc(TEXT)
    words = [t.text for t in gold]
    spans = [(0, 3, "DISEASE"), (4, 5, "DISEASE"), (7, 10, "GENE_OR_GENE_PRODUCT"),
             (11, 12, "GENE_OR_GENE_PRODUCT"), (16, 17, "DISEASE"),
             (18, 19, "GENE_OR_GENE_PRODUCT")]
    assert [words[s] for s, _, _ in spans] == ["Nephrogenic", "NDI", "tumor", "TNF", "NDI",
                                               "TNF"]
    gold.ents = [Span(gold, s, e, label=label) for s, e, label in spans]
    gold._.corpus = "toy"
    gold._.annotated_labels = ("DISEASE", "GENE_OR_GENE_PRODUCT")
    data = tmp_path / "dev.spacy"
    DocBin(docs=[gold], store_user_data=True).to_disk(data)
    module = load_bench("short_form_labels")
    settings = ["none", "DISEASE", "all"]
    results = module.score_settings(nlp, [data], settings)["toy"]
    assert results["none"]["DISEASE"]["tp"] == 1 and results["none"]["DISEASE"]["fn"] == 2
    assert results["DISEASE"]["DISEASE"]["tp"] == 3
    assert results["DISEASE"]["GENE_OR_GENE_PRODUCT"]["tp"] == 1
    assert results["all"]["GENE_OR_GENE_PRODUCT"] == {"p": 100.0, "r": 100.0, "f": 100.0,
                                                      "tp": 3, "fp": 0, "fn": 0}
    table = module.markdown({"toy": results}, settings)
    assert "| toy | DISEASE | 50.00" in table and "`all`" in table


def test_a_pipeline_without_the_detector_is_refused(tmp_path: Path, load_bench) -> None:  # type: ignore[no-untyped-def]
    nlp = spacy.blank("en")
    data = tmp_path / "dev.spacy"
    DocBin(docs=[nlp.make_doc("x")]).to_disk(data)
    try:
        load_bench("short_form_labels").score_settings(nlp, [data], ["none"])
    except SystemExit as err:
        assert "biobert_abbreviation_detector is not in the pipeline" in str(err)
    else:
        raise AssertionError("no error")


def test_unknown_labels_are_refused_naming_the_option(tmp_path: Path, load_bench) -> None:  # type: ignore[no-untyped-def]
    nlp = spacy.blank("en")
    for bad, named in [("CHEMCAL", "CHEMCAL"), ("DISEASE,GENE", "GENE"), (",", "no label")]:
        try:
            load_bench("short_form_labels").score_settings(
                nlp, [tmp_path / "missing.spacy"], ["none", bad])
        except SystemExit as err:
            assert f"--labels {bad!r}: {named} is not one of CHEMICAL" in str(err)
        else:
            raise AssertionError(f"{bad} accepted")
