"""Entity linking: vocabulary readers, KB file, candidates, the linker, evaluation."""
import json
import pickle
import time
from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest
import spacy
import srsly
from scipy import sparse
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from typer.testing import CliRunner

from spacy_biobert.cli import app
from spacy_biobert.linking import LinkingKB, VocabError, build_kb, namespace_id
from spacy_biobert.linking.evaluation import evaluate_linking
from spacy_biobert.linking.ids import gold_ids
from spacy_biobert.linking.normalize import normalize
from spacy_biobert.linking.vocab import read_mesh_descriptors

DESCRIPTORS = "\n".join([
    "D015738\tFamotidine\tYM-11170|MK-208\tD03.383.129.462.580",
    "D024502\tTocopherols\talpha-Tocopherol|Vitamin E\tD02.455.326",
    "D014409\tTumor Necrosis Factor-alpha\tTNF-alpha|Cachectin\tD12.644.276",
    "D003693\tDelirium\tSubacute Delirium\tF01.700.250|C10.597.606",
    "D001943\tBreast Neoplasms\tBreast Cancer|Breast Tumors\tC04.588.180",
    "D010051\tOvarian Neoplasms\tOvarian Cancer\tC04.588.322",
    "D000003\tAbattoirs\tSlaughterhouse\tJ01.576",
    "D011618\tPsychotic Disorders\tPsychosis\tF03.700",
    "D007674\tKidney Diseases\tRenal Diseases\tC12.777.419",
    "D015232\tDinoprostone\tPGE2|Prostaglandin E2\tD10.251.355.255",
]) + "\n"
SUPPLEMENTARY = "C012345\tfoobarin\tfoobarine|FBR-1\tD015738\n"
MEDIC = "\n".join([
    "C||Diseases",
    "D003693||Delirium|Subacute Delirium",
    "145250||HYPERPIGMENTATION, FAMILIAL PROGRESSIVE, 2|FPH2",
    "D019082|270400||Smith-Lemli-Opitz Syndrome|SLOS",
]) + "\n"
TITLE = "Famotidine-associated delirium and breast and ovarian cancer."
TRAIN = "\n".join([
    f"1|t|{TITLE}",
    "1|a|Oldamine was given.",
    "1\t0\t10\tFamotidine\tChemical\tD015738",
    "1\t22\t30\tdelirium\tDisease\tD003693",
    "1\t35\t60\tbreast and ovarian cancer\tDisease\tD001943|D010051",
    "1\t62\t70\tOldamine\tChemical\tC999999",
]) + "\n\n"


@pytest.fixture
def vocab_files(write_file) -> Tuple[Path, Path, Path, Path]:  # type: ignore[no-untyped-def]
    return (write_file("desc.tsv", DESCRIPTORS), write_file("supp.tsv", SUPPLEMENTARY),
            write_file("medic.txt", MEDIC), write_file("train.txt", TRAIN))


@pytest.fixture
def kb(vocab_files: Tuple[Path, Path, Path, Path]) -> LinkingKB:
    desc, supp, medic, train = vocab_files
    return build_kb(descriptors=desc, supplementary=supp, medic=medic, training=[train],
                    mesh_version="test-1")


@pytest.fixture
def linker_nlp(nlp: Language, kb: LinkingKB) -> Language:
    linker = nlp.add_pipe("biobert_entity_linker")
    linker.kb = kb  # type: ignore[attr-defined]
    return nlp


def link(nlp: Language, text: str, spans: List[Tuple[int, int, str]]) -> Doc:
    doc = nlp.make_doc(text)
    doc.ents = [doc.char_span(s, e, label=lab, alignment_mode="expand") for s, e, lab in spans]
    return nlp.get_pipe("biobert_entity_linker")(doc)


def ids_of(doc: Doc) -> List[Tuple[str, ...]]:
    return [tuple(e._.kb_ids) for e in doc.ents]


def test_namespace_convention() -> None:
    assert namespace_id("D008094") == "MESH:D008094"
    assert namespace_id("C012345") == "MESH:C012345"
    assert namespace_id("OMIM:613097") == "OMIM:613097"
    assert namespace_id("613097") == "OMIM:613097"
    assert namespace_id("MESH:D008094") == "MESH:D008094"


def test_gold_ids_namespace_linked_labels_only() -> None:
    assert gold_ids(["D008094", "613097"], "DISEASE") == ("MESH:D008094", "OMIM:613097")
    assert gold_ids(["D008094", " "], "CHEMICAL") == ("MESH:D008094",)
    # a gene id is no OMIM number, whatever its length
    assert gold_ids(["672000"], "GENE_OR_GENE_PRODUCT") == ("672000",)


def test_normalize_unicode() -> None:
    assert normalize("α-Tocopherol") == normalize("alpha-tocopherol") == "alpha tocopherol"
    assert normalize("TNF\u2011α") == normalize("TNF-alpha") == "tnf alpha"
    assert normalize("BREAST  CANCER") == "breast cancer"


def test_descriptor_labels_by_tree(vocab_files: Tuple[Path, Path, Path, Path]) -> None:
    labels = {c.id: c.label for c, _ in read_mesh_descriptors(vocab_files[0])}
    assert labels["MESH:D015738"] == "CHEMICAL"
    assert labels["MESH:D003693"] == "DISEASE"
    assert labels["MESH:D011618"] == "DISEASE"  # F03, mental disorders
    assert "MESH:D000003" not in labels  # neither chemical nor disease


def test_exact_all_caps_and_plural(linker_nlp: Language) -> None:
    doc = link(linker_nlp, "FAMOTIDINE and famotidine and Breast Tumor",
               [(0, 10, "CHEMICAL"), (15, 25, "CHEMICAL"), (30, 42, "DISEASE")])
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D015738", "MESH:D015738", "MESH:D001943"]
    assert doc.ents[0]._.kb_candidates[0][0] == "MESH:D015738"


def test_ngram_fallback_for_misspelling(linker_nlp: Language) -> None:
    doc = link(linker_nlp, "famotidne given", [(0, 9, "CHEMICAL")])
    exact = link(linker_nlp, "famotidine given", [(0, 10, "CHEMICAL")])
    assert doc.ents[0].kb_id_ == "MESH:D015738"
    assert doc.ents[0]._.kb_candidates[0][1] < exact.ents[0]._.kb_candidates[0][1]


def test_greek_and_unicode_hyphen(linker_nlp: Language) -> None:
    text = "α-tocopherol and TNF\u2011α"
    doc = link(linker_nlp, text, [(0, 12, "CHEMICAL"), (17, len(text), "CHEMICAL")])
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D024502", "MESH:D014409"]


def test_composite_from_training(linker_nlp: Language) -> None:
    doc = link(linker_nlp, "breast and ovarian cancer", [(0, 25, "DISEASE")])
    assert ids_of(doc) == [("MESH:D001943", "MESH:D010051")]
    assert doc.ents[0].kb_id_ == "MESH:D001943"


def test_nil_when_no_candidate(linker_nlp: Language) -> None:
    doc = link(linker_nlp, "xqzvw was here", [(0, 5, "CHEMICAL")])
    assert doc.ents[0].kb_id_ == "" and ids_of(doc) == [()]


def test_empty_doc_and_other_labels(linker_nlp: Language) -> None:
    assert len(linker_nlp("")) == 0
    doc = link(linker_nlp, "BRCA1 famotidine", [(0, 5, "GENE_OR_GENE_PRODUCT")])
    assert doc.ents[0].kb_id_ == ""


def test_one_and_ten_thousand_characters(linker_nlp: Language) -> None:
    doc = link(linker_nlp, "K given", [(0, 1, "CHEMICAL")])
    assert len(doc.ents) == 1
    long_text = "famotidine" * 1000
    start = time.perf_counter()
    doc = link(linker_nlp, long_text, [(0, 10_000, "CHEMICAL")])
    assert time.perf_counter() - start < 2.0
    assert doc.ents[0].kb_id_ in ("", "MESH:D015738")


def test_short_form_defined_in_document(linker_nlp: Language) -> None:
    text = "Famotidine (FMT) was given; FMT caused delirium."
    doc = link(linker_nlp, text, [(0, 10, "CHEMICAL"), (12, 15, "CHEMICAL"),
                                  (28, 31, "CHEMICAL"), (39, 47, "DISEASE")])
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D015738"] * 3 + ["MESH:D003693"]


def test_short_form_found_by_the_detectors_matching(linker_nlp: Language) -> None:
    # No detector ran: the linker runs its matching; the long form need not be an entity.
    text = "We gave famotidine (FMT) daily. FMT caused delirium."
    doc = link(linker_nlp, text, [(20, 23, "CHEMICAL"), (32, 35, "CHEMICAL")])
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D015738"] * 2
    # The detector ran and found nothing for them: its answer stands.
    doc = linker_nlp.make_doc(text)
    doc.ents = [doc.char_span(20, 23, label="CHEMICAL")]
    doc.user_data["spacy_biobert.abbreviations"] = []
    assert linker_nlp.get_pipe("biobert_entity_linker")(doc).ents[0].kb_id_ == ""


def test_long_form_extension_is_used(linker_nlp: Language) -> None:
    from spacy_biobert.abbreviations.storage import store_abbreviations
    from spacy_biobert.extensions import install_extensions

    install_extensions()
    doc = linker_nlp.make_doc("Patients took famotidine . Later XYZ was given")
    doc.ents = [Span(doc, 5, 6, label="CHEMICAL")]
    store_abbreviations(doc, [(doc[5:6], doc[2:3])])
    assert doc.ents[0]._.long_form.text == "famotidine"
    doc = linker_nlp.get_pipe("biobert_entity_linker")(doc)
    assert doc.ents[0].kb_id_ == "MESH:D015738"


def test_medic_omim_equivalence(kb: LinkingKB) -> None:
    assert kb.canonical("OMIM:270400") == "MESH:D019082"
    assert kb.concepts_for("DISEASE", "fph2") == ["OMIM:145250"]
    assert kb.name_of("OMIM:270400") == "Smith-Lemli-Opitz Syndrome"


def test_retired_training_id_reported(kb: LinkingKB) -> None:
    report = kb.report["training_ids_not_in_vocabulary"]
    assert report["ids"] == 1 and report["examples"] == ["MESH:C999999"]  # type: ignore[index]
    assert kb.prior_for("CHEMICAL", "oldamine") == {"MESH:C999999": 1}


def test_bad_tsv_line_names_file_and_line(write_file) -> None:  # type: ignore[no-untyped-def]
    bad = write_file("bad.tsv", DESCRIPTORS + "D999999 no tabs here\n")
    line = len(DESCRIPTORS.splitlines()) + 1
    with pytest.raises(VocabError, match=rf"bad\.tsv:{line}: malformed MeSH descriptor"):
        build_kb(descriptors=bad)
    medic = write_file("bad_medic.txt", "D003693||Delirium\nnot a medic line\n")
    with pytest.raises(VocabError, match=r"bad_medic\.txt:2: malformed MEDIC"):
        build_kb(medic=medic)
    with pytest.raises(VocabError, match="not found"):
        build_kb(descriptors=Path("missing.tsv"))


def test_kb_file_round_trip_and_versions(kb: LinkingKB, tmp_path: Path) -> None:
    path = tmp_path / "kb.bin"
    kb.to_disk(path)
    again = LinkingKB.from_disk(path, mesh_version="test-1")
    assert again.concepts_for("CHEMICAL", "famotidine") == ["MESH:D015738"]
    assert again.ngrams["CHEMICAL"].nearest("famotidne", 1)[0][0] == "famotidine"
    with pytest.raises(VocabError, match="MeSH 'test-1', expected '2099'"):
        LinkingKB.from_disk(path, mesh_version="2099")
    data = path.read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[: len(data) - 100])
    with pytest.raises(VocabError, match=r"cut\.bin: truncated KB file"):
        LinkingKB.from_disk(tmp_path / "cut.bin")
    header, _, body = data.partition(b"\n")
    wrong = json.loads(header)
    wrong["format_version"] = 99
    (tmp_path / "v99.bin").write_bytes(json.dumps(wrong).encode() + b"\n" + body)
    with pytest.raises(VocabError, match=r"v99\.bin:1: KB format version 99"):
        LinkingKB.from_disk(tmp_path / "v99.bin")
    (tmp_path / "junk.bin").write_bytes(b"\x00\x01junk")
    with pytest.raises(VocabError, match="not a linking KB file"):
        LinkingKB.from_disk(tmp_path / "junk.bin")


def test_kb_file_is_mapped_shared_and_rewritable(kb: LinkingKB, tmp_path: Path) -> None:
    """Format 3: tables are views of the mapped file; a mapped KB pickles, and its file
    can be rewritten while it is mapped."""
    path = tmp_path / "kb.bin"
    kb.to_disk(path)
    assert json.loads(path.read_bytes().partition(b"\n")[0])["format_version"] == 3
    mapped = LinkingKB.from_disk(path)
    assert isinstance(mapped.ids.blob, memoryview)
    assert isinstance(mapped.aliases["CHEMICAL"].keys.blob, memoryview)
    assert mapped.ngrams["CHEMICAL"].nearest("famotidne", 1) == kb.ngrams["CHEMICAL"].nearest(
        "famotidne", 1)
    copy = pickle.loads(pickle.dumps(mapped))
    assert copy.concepts_for("CHEMICAL", "famotidine") == ["MESH:D015738"]
    mapped.to_disk(path)  # replaced, not truncated under the mapping
    assert mapped.name_of("OMIM:270400") == LinkingKB.from_disk(path).name_of("OMIM:270400")
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".kb.bin")]


def _old_kb_file(kb: LinkingKB, path: Path, version: int, body: dict) -> LinkingKB:
    """Write ``body`` as a KB file of an older format version, read it back and check
    that it answers exact lookups as ``kb`` does."""
    data = srsly.msgpack_dumps(body)
    header = dict(kb.header(), format_version=version, body_bytes=len(data))
    path.write_bytes(json.dumps(header).encode() + b"\n" + data)
    old_kb = LinkingKB.from_disk(path)
    for label, key in [("CHEMICAL", "famotidine"), ("DISEASE", "fph2"), ("DISEASE", "nothing")]:
        assert old_kb.concepts_for(label, key) == kb.concepts_for(label, key)
    return old_kb


def test_format_2_kb_files_still_load(kb: LinkingKB, tmp_path: Path) -> None:
    """A KB with its packed tables inside the msgpack body loads and answers alike."""
    order = kb._id_index.order
    body = {"ids": kb.ids.to_dict(), "names": kb.names.to_dict(),
            "id_order": order.tobytes() if order is not None else b"",
            "alt_ids": kb.alt_ids, "priors": kb.priors, "tokens": kb.tokens,
            "aliases": {label: t.to_dict() for label, t in kb.aliases.items()},
            "ngrams": {label: ix.to_dict() for label, ix in kb.ngrams.items()}}
    for label, index in kb.ngrams.items():  # before format 3: the weights themselves
        weights = index.matrix.multiply(index.idf[:, None]).multiply(index.inverse_norms)
        legacy = sparse.csr_matrix(weights, dtype=np.float32)
        body["ngrams"][label] = dict(body["ngrams"][label], data=legacy.data.tobytes(),
                                     indices=legacy.indices.tobytes(),
                                     indptr=legacy.indptr.astype(np.int64).tobytes())
        del body["ngrams"][label]["inverse_norms"]
    old_kb = _old_kb_file(kb, tmp_path / "v2.bin", 2, body)
    assert old_kb.name_of("MESH:D003693") == "Delirium"
    assert old_kb.ngrams["CHEMICAL"].inverse_norms is None
    for query in ("famotidne", "delirum", "foobarin 1"):
        for label in ("CHEMICAL", "DISEASE"):
            counts = kb.ngrams[label].nearest(query, 3)
            weights = old_kb.ngrams[label].nearest(query, 3)
            assert [k for k, _ in weights] == [k for k, _ in counts]
            assert [s for _, s in weights] == pytest.approx([s for _, s in counts], abs=1e-5)
    cut = tmp_path / "v2cut.bin"
    cut.write_bytes((tmp_path / "v2.bin").read_bytes()[:-5])
    with pytest.raises(VocabError, match=r"v2cut\.bin: truncated KB file"):
        LinkingKB.from_disk(cut)
    # A body that parses but does not hold what its version says: an error naming the file.
    label = next(iter(body["ngrams"]))
    body["ngrams"][label] = dict(body["ngrams"][label], data={"not": "bytes"})
    with pytest.raises(VocabError, match=r"odd\.bin: KB body does not match format version 2"):
        _old_kb_file(kb, tmp_path / "odd.bin", 2, body)
    del body["alt_ids"]
    with pytest.raises(VocabError, match=r"odd\.bin: .*KeyError.*rebuild it"):
        _old_kb_file(kb, tmp_path / "odd.bin", 2, body)


def test_format_1_kb_files_still_load(kb: LinkingKB, tmp_path: Path) -> None:
    """A KB written before the packed tables (lists and dicts) loads and answers alike."""
    ngrams = {}
    for label, index in kb.ngrams.items():
        old = index.to_dict()
        old["keys"] = list(index.keys)
        ngrams[label] = old
    body = {"ids": list(kb.ids), "names": list(kb.names), "labels": ["?"] * len(kb.ids),
            "alt_ids": kb.alt_ids, "priors": kb.priors, "tokens": kb.tokens, "ngrams": ngrams,
            "aliases": {label: {key: table.get(key) for key in table.keys}
                        for label, table in kb.aliases.items()}}
    old_kb = _old_kb_file(kb, tmp_path / "v1.bin", 1, body)
    assert old_kb.name_of("OMIM:270400") == kb.name_of("OMIM:270400") is not None
    assert old_kb.ngrams["CHEMICAL"].nearest("famotidne", 1) == kb.ngrams["CHEMICAL"].nearest(
        "famotidne", 1)
    assert LinkingKB.from_bytes(old_kb.to_bytes()).concepts_for("CHEMICAL", "famotidine") == [
        "MESH:D015738"]


def test_a_packed_kb_is_read_only(kb: LinkingKB) -> None:
    from spacy_biobert.linking.vocab import Concept

    assert kb.knows("MESH:D015738") and kb.knows("OMIM:270400") and not kb.knows("MESH:D0")
    with pytest.raises(RuntimeError, match="packed"):
        kb.add_concept(Concept("MESH:D000001", "CHEMICAL", "Calcimycin", []))


def test_pipeline_and_docbin_round_trip(linker_nlp: Language, tmp_path: Path) -> None:
    doc = link(linker_nlp, "breast and ovarian cancer after famotidine",
               [(0, 25, "DISEASE"), (32, 42, "CHEMICAL")])
    linker_nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    again = link(loaded, doc.text, [(0, 25, "DISEASE"), (32, 42, "CHEMICAL")])
    assert ids_of(again) == ids_of(doc)
    assert loaded.get_pipe("biobert_entity_linker").kb.mesh_version == "test-1"
    from_bytes = spacy.blank("en")
    from_bytes.add_pipe("biobert_entity_linker")
    from_bytes.from_bytes(linker_nlp.to_bytes())
    assert ids_of(link(from_bytes, doc.text, [(0, 25, "DISEASE"), (32, 42, "CHEMICAL")])) \
        == ids_of(doc)
    restored = list(DocBin(docs=[doc], store_user_data=True).get_docs(linker_nlp.vocab))[0]
    assert ids_of(restored) == ids_of(doc)
    assert restored.ents[1]._.kb_candidates == doc.ents[1]._.kb_candidates


def test_initialize_builds_from_vocabularies(nlp: Language,
                                             vocab_files: Tuple[Path, ...]) -> None:
    desc, supp, medic, train = vocab_files
    linker = nlp.add_pipe("biobert_entity_linker")
    with pytest.raises(ValueError, match="no knowledge base"):
        nlp.initialize()
    linker.initialize(descriptors=str(desc), medic=str(medic), training=[str(train)])
    assert link(nlp, "delirium", [(0, 8, "DISEASE")]).ents[0].kb_id_ == "MESH:D003693"


def test_evaluation_and_cli(linker_nlp: Language, kb: LinkingKB, tmp_path: Path,
                            vocab_files: Tuple[Path, ...]) -> None:
    gold = linker_nlp.make_doc("Famotidine caused delirum after quetiapine.")
    # quetiapine: an id of an older MeSH that the KB's vocabularies no longer have.
    gold.ents = [Span(gold, 0, 1, label="CHEMICAL", kb_id="D015738"),
                 Span(gold, 2, 3, label="DISEASE", kb_id="D003693"),
                 Span(gold, 4, 5, label="CHEMICAL", kb_id="C069541")]
    DocBin(docs=[gold], store_user_data=True).to_disk(tmp_path / "dev.spacy")
    linker = linker_nlp.get_pipe("biobert_entity_linker")
    metrics = evaluate_linking(linker_nlp, linker, [tmp_path / "dev.spacy"])  # type: ignore
    chemical = metrics["corpora"]["dev"]["CHEMICAL"]
    assert (chemical["accuracy"], chemical["gold_not_in_kb"]) == (50.0, 1)
    assert chemical["in_kb_accuracy"] == 100.0
    # quetiapine's retired id is no candidate: a candidate miss, not a ranking error
    assert (chemical["ranking_errors"], chemical["candidate_misses"]) == (0, 1)
    assert metrics["corpora"]["dev"]["DISEASE"]["mentions"] == 1
    desc, supp, medic, train = vocab_files
    runner = CliRunner()
    result = runner.invoke(app, ["build-kb", str(tmp_path / "kb.bin"), "--descriptors",
                                 str(desc), "--medic", str(medic), "-t", str(train),
                                 "--mesh-version", "test-1"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "linking.json"
    result = runner.invoke(app, ["evaluate-linking", str(tmp_path / "kb.bin"),
                                 str(tmp_path / "dev.spacy"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["corpora"]["dev"]["DISEASE"]["accuracy"] == 100.0


def test_coordination_split_and_linked(linker_nlp: Language) -> None:
    from spacy_biobert.linking.composites import split_coordination

    assert split_coordination("brain, breast, and prostate cancer") == [
        "brain cancer", "breast cancer", "prostate cancer"]
    assert split_coordination("nausea and vomiting") == ["nausea", "vomiting"]
    assert split_coordination("delirium") == []
    doc = link(linker_nlp, "breast and ovarian neoplasms", [(0, 28, "DISEASE")])
    assert ids_of(doc) == [("MESH:D001943", "MESH:D010051")]


def test_token_key_order_stems_and_heads() -> None:
    from spacy_biobert.linking.normalize import token_key

    assert token_key("neoplasms pancreatic") == token_key("pancreatic tumours")
    assert token_key("prostatic neoplasms") == token_key("prostate cancer")
    assert token_key("kidney diseases") == token_key("kidney disorder") == "kidney"
    assert token_key("cancer of the breast") == token_key("breast neoplasms")
    assert token_key("syndrome") == "syndrom"  # a lone generic head is kept


def test_word_order_and_head_variants_linked(linker_nlp: Language) -> None:
    text = "tumours of the breast and psychotic illness"
    doc = link(linker_nlp, text, [(0, 21, "DISEASE"), (26, len(text), "DISEASE")])
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D001943", "MESH:D011618"]
    assert doc.ents[0]._.kb_candidates[0][1] < 1.0 + 0.5 + 0.2  # below an exact hit


def test_vague_organ_mentions_linked_as_the_organs_disease(linker_nlp: Language) -> None:
    from spacy_biobert.linking.normalize import organ_disease, singular_noun

    assert organ_disease("renal involvement") == "kidney disease"
    assert organ_disease("cardiac abnormalities") == "heart disease"
    assert organ_disease("renal") == organ_disease("renal cell carcinoma") == ""
    assert singular_noun("liver injuries") == "liver injury"
    text = "renal involvement and kidney lesions"
    doc = link(linker_nlp, text, [(0, 17, "DISEASE"), (22, len(text), "DISEASE")])
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D007674", "MESH:D007674"]


def test_salt_words_and_british_sulphate(linker_nlp: Language) -> None:
    from spacy_biobert.linking.normalize import acid_form, american, without_salt

    assert acid_form("metrizoate") == "metrizoic acid"
    assert acid_form("valproic acid") == "valproate"
    assert acid_form("heparin") == acid_form("acid") == acid_form("late") == ""
    assert without_salt("metformin hydrochloride") == "metformin"
    assert without_salt("sodium") == "sodium"
    assert american("pregnenolone sulphate") == "pregnenolone sulfate"
    doc = link(linker_nlp, "famotidine hydrochloride", [(0, 24, "CHEMICAL")])
    assert doc.ents[0].kb_id_ == "MESH:D015738"


def test_codes_written_apart_meet_their_alias(linker_nlp: Language) -> None:
    from spacy_biobert.linking.normalize import joined_code

    assert joined_code(normalize("PGE(2)")) == "pge2"
    assert joined_code("type 2 diabetes") == "type2 diabetes"
    assert joined_code("2 3 dihydroxy") == "2 3 dihydroxy"  # only letter, then digit
    doc = link(linker_nlp, "PGE(2) or PGE2 was infused.", [(0, 6, "CHEMICAL"),
                                                             (10, 14, "CHEMICAL")])
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D015232", "MESH:D015232"]
    # a variant of the text, scored just below the text itself
    assert doc.ents[0]._.kb_candidates[0][1] < doc.ents[1]._.kb_candidates[0][1]


def test_token_index_saved_with_the_kb(kb: LinkingKB) -> None:
    again = LinkingKB.from_bytes(kb.to_bytes())
    assert again.token_aliases("DISEASE", "tumors breast") == kb.token_aliases(
        "DISEASE", "tumors breast") != []


def _tiny_kb(*concepts: Tuple[str, str, List[str]]) -> LinkingKB:
    from spacy_biobert.linking.vocab import Concept

    small = LinkingKB()
    for cid, name, synonyms in concepts:
        small.add_concept(Concept(cid, "DISEASE", name, synonyms))
    small.add_training({})
    small.build_index()
    return small


def test_ngram_neighbour_weights_scale_with_similarity() -> None:
    from spacy_biobert.linking.ranking import rank

    small = _tiny_kb(("MESH:D003693", "Delirium", []))
    (_, cosine), = small.ngrams["DISEASE"].nearest("delirum", 1)
    (_, score), = rank(small, "DISEASE", "delirum", name_weight=0.2)
    assert score == pytest.approx(cosine * (1 + 0.2))


def test_carcinoma_named_by_its_site_linked_as_the_sites_neoplasms() -> None:
    from spacy_biobert.linking.normalize import site_neoplasm
    from spacy_biobert.linking.ranking import rank

    assert site_neoplasm("prostate carcinomas") == "prostate neoplasms"
    assert site_neoplasm("gastric adenocarcinoma") == "gastric neoplasms"
    assert site_neoplasm("carcinoma") == site_neoplasm("prostate cancer") == ""
    small = _tiny_kb(("MESH:D011471", "Prostatic Neoplasms", ["Prostate Cancer"]),
                     ("MESH:D002277", "Carcinoma", []))
    assert rank(small, "DISEASE", "prostate carcinoma")[0][0] == "MESH:D011471"
    # an alias of the mention itself comes first
    assert rank(small, "DISEASE", "carcinoma")[0][0] == "MESH:D002277"


def test_preferred_name_breaks_an_alias_tie() -> None:
    from spacy_biobert.linking.ranking import rank

    small = _tiny_kb(("MESH:D009224", "Myotonia Congenita", ["dominant myotonia congenita"]),
                     ("OMIM:160800", "MYOTONIA CONGENITA, DOMINANT",
                      ["dominant myotonia congenita"]))
    ranked = rank(small, "DISEASE", "dominant myotonia congenita")
    assert [ids for ids, _ in ranked] == ["OMIM:160800", "MESH:D009224"]


def test_undefined_short_form_linked_as_a_matching_entity(linker_nlp: Language) -> None:
    from spacy_biobert.linking.definitions import _looks_short

    text = "Famotidine was given. FMT was stopped."
    doc = link(linker_nlp, text, [(0, 10, "CHEMICAL"), (22, 25, "CHEMICAL")])
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D015738", "MESH:D015738"]
    assert _looks_short("PGs") and not _looks_short("Iron") and not _looks_short("P")


def test_bracketed_synonym_takes_the_known_names_id(linker_nlp: Language) -> None:
    # A brand name before its generic one, and an unknown code after a known name.
    text = "Pepcidine (famotidine) and Vitamin E (XQZ-7) were given; XQZ-7 stopped."
    doc = link(linker_nlp, text, [(0, 9, "CHEMICAL"), (11, 21, "CHEMICAL"),
                                  (27, 36, "CHEMICAL"), (38, 43, "CHEMICAL"),
                                  (57, 62, "CHEMICAL")])
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D015738"] * 2 + ["MESH:D024502"] * 3


def test_bracketed_list_is_not_a_synonym(linker_nlp: Language) -> None:
    # A list in brackets names members or features, and two unknown names stay unknown.
    text = "Famotidine (Zorbix, foobarin) and Qwertane (Zorbix) were given."
    doc = link(linker_nlp, text, [(0, 10, "CHEMICAL"), (12, 18, "CHEMICAL"),
                                  (20, 28, "CHEMICAL"), (34, 42, "CHEMICAL"),
                                  (44, 50, "CHEMICAL")])
    assert [e.kb_id_ for e in doc.ents] == ["MESH:D015738", "", "MESH:C012345", "", ""]
