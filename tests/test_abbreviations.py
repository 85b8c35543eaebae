"""The abbreviation detector: hand-checked definitions, bad input, the component, storage."""
import functools
import json
import time
from pathlib import Path
from typing import List, Tuple

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span

from spacy_biobert import install_extensions
from spacy_biobert.abbreviations import DetectionStats, find_definitions
from spacy_biobert.abbreviations.candidates import bracket_pairs, is_short_form
from spacy_biobert.abbreviations.evaluation import evaluate_abbreviations
from spacy_biobert.abbreviations.gold import gold_pairs, load_gold
from spacy_biobert.abbreviations.storage import ABBREVIATIONS_KEY, abbreviation_pairs, ours
from spacy_biobert.cli import blank_biomedical


def pairs(text: str) -> List[Tuple[str, str]]:
    return [(text[d.short[0]:d.short[1]], text[d.long[0]:d.long[1]])
            for d in find_definitions(text)]


@pytest.mark.parametrize("text,expected", [
    ("Patients with nephrogenic diabetes insipidus (NDI) were seen.",
     ("NDI", "nephrogenic diabetes insipidus")),
    ("Use of non-steroidal anti-inflammatory drugs (NSAIDs) rose.",
     ("NSAIDs", "non-steroidal anti-inflammatory drugs")),
    ("Levels of TNF-α (tumor necrosis factor alpha) fell.",
     ("TNF-α", "tumor necrosis factor alpha")),
    ("We gave 5-fluorouracil (5-FU) weekly.", ("5-FU", "5-fluorouracil")),
    ("Effects of 3,4-methylenedioxymethamphetamine (MDMA) on rats.",
     ("MDMA", "3,4-methylenedioxymethamphetamine")),
    ("A study of Parkinson's disease (PD).", ("PD", "Parkinson's disease")),
    ("The oculocerebrorenal syndrome of Lowe (OCRL) is rare.",
     ("OCRL", "oculocerebrorenal syndrome of Lowe")),
    ("Serum interleukin-6 (IL-6) was high.", ("IL-6", "interleukin-6")),
    ("Given (R)-alpha-methylhistamine (RAMH) daily.", ("RAMH", "(R)-alpha-methylhistamine")),
    ("Studies (of nephrogenic diabetes insipidus (NDI)) exist.",
     ("NDI", "nephrogenic diabetes insipidus")),
    ("Dosing of lithium (Li; 2 mM) was stable.", ("Li", "lithium")),
    ("The gene for myotonic dystrophy (DM) maps here.", ("DM", "myotonic dystrophy")),
    ("A dominant spinocerebellar ataxia type 3 (SCA3).",
     ("SCA3", "spinocerebellar ataxia type 3")),
    ("Of adult muscular dystrophy, myotonic dystrophy (DM).", ("DM", "myotonic dystrophy")),
    ("MDMA (3,4-methylenedioxymethamphetamine, ecstasy) users.",
     ("MDMA", "3,4-methylenedioxymethamphetamine")),
    # Each character at the nearest word start that has it, not both C in "cancer".
    ("Kindreds with hereditary nonpolyposis colorectal cancer (HNPCC) were seen.",
     ("HNPCC", "hereditary nonpolyposis colorectal cancer")),
    ("A family with benign familial neonatal convulsions syndrome (BFNC) was seen.",
     ("BFNC", "benign familial neonatal convulsions syndrome")),
    ("Children with Lesch-Nyhan syndrome (L-N) were seen.", ("L-N", "Lesch-Nyhan syndrome")),
    # The part after a one-letter prefix that gave a letter is no unused word.
    ("Men with X-linked adrenomyeloneuropathy (X-AMN) were seen.",
     ("X-AMN", "X-linked adrenomyeloneuropathy")),
    # A chemical formula's atom counts need no letters of their own.
    ("Rats given carbon tetrachloride (CCl4) were studied.", ("CCl4", "carbon tetrachloride")),
    ("A dose of magnesium chloride (MgCl(2)) was given.", ("MgCl(2)", "magnesium chloride")),
])
def test_hand_checked_definitions(text: str, expected: Tuple[str, str]) -> None:
    assert pairs(text) == [expected]


@pytest.mark.parametrize("text", [
    "Twelve patients (n = 12) were treated (Smith et al., 1995).",
    "Doses (20 mg/kg) were given (P < 0.05) in three steps (iv) and (b).",
    "The rats (95 %) survived (Fig 2).",
    "The blood pressure (see below) rose.",
    "Injection of thrombin and tranexamic acid (AMCA) stopped it.",
    "Loss of the retinoblastoma gene (RB1) was seen.",  # a gene's number, no formula
])
def test_non_definitions_are_skipped(text: str) -> None:
    assert pairs(text) == []


def test_short_form_filters() -> None:
    assert is_short_form("NDI") and is_short_form("5-FU") and is_short_form("IL-6")
    assert not is_short_form("iv") and not is_short_form("10 mg") and not is_short_form("x")


@pytest.mark.parametrize("text", [
    "", " ", "\n\t  ", "(", ")", "(NDI", "NDI)", "nephrogenic diabetes insipidus (NDI",
    "(NDI) starts the text", "ends with a bracket (", "((((((", "))))", "()", "( )",
    "abc(ABC)", "nodiabetesinsipidus(NDI)", "ABCDEFGHIJ (ab)",
    "肾源性尿崩症（NDI）患者", "Несахарный диабет (НД) редок.", "患者(ABC)患者",
])
def test_bad_input_does_not_crash(text: str) -> None:
    find_definitions(text)
    doc = _shared_nlp()(text)
    assert isinstance(doc._.abbreviations, list)


def test_short_form_longer_than_long_form_is_not_a_definition() -> None:
    assert pairs("an ab (ABCDEFGH) b") == []
    assert pairs("Tiny (TINYWORDS) b") == []


def test_unbalanced_brackets_pair_only_when_closed() -> None:
    assert list(bracket_pairs("a (b [c) d)")) == [(2, 7)]
    assert list(bracket_pairs("((a)")) == [(1, 3)]


def test_a_million_characters_with_ten_thousand_brackets_is_linear() -> None:
    unit = "nephrogenic diabetes insipidus (NDI) and some other filler words here. "
    small = unit * 1_000
    text = (unit * (1_000_000 // len(unit) + 1))[:1_000_000]
    assert text.count("(") >= 10_000
    stats_small, stats = DetectionStats(), DetectionStats()
    start = time.perf_counter()
    find_definitions(small, stats=stats_small)
    small_s = time.perf_counter() - start
    start = time.perf_counter()
    find_definitions(text, stats=stats)
    big_s = time.perf_counter() - start
    brackets = text.count("(")
    assert stats.match_calls <= 2 * brackets
    assert stats.window_chars <= 250 * brackets
    ratio = len(text) / len(small)
    assert big_s < 3 * ratio * max(small_s, 1e-3) and big_s < 8


def test_unclosed_brackets_in_a_long_text_are_linear() -> None:
    stats = DetectionStats()
    find_definitions("( " * 200_000, stats=stats)
    assert stats.match_calls == 0


@functools.lru_cache(maxsize=1)
def _shared_nlp():  # type: ignore[no-untyped-def]
    return _nlp()


def _nlp(**config):  # type: ignore[no-untyped-def]
    nlp = blank_biomedical()
    nlp.add_pipe("biobert_abbreviation_detector", config=config)
    return nlp


TEXT = ("Patients with nephrogenic diabetes insipidus (NDI) were studied. NDI is rare. "
        "Blood pressure (BP) rose; BP fell.")


def test_component_finds_definitions_and_later_uses() -> None:
    doc = _nlp()(TEXT)
    found = [(s.text, s.start_char, s._.long_form.text) for s in doc._.abbreviations]
    assert found == [
        ("NDI", 46, "nephrogenic diabetes insipidus"),
        ("NDI", 65, "nephrogenic diabetes insipidus"),
        ("BP", TEXT.index("BP"), "Blood pressure"),
        ("BP", TEXT.rindex("BP"), "Blood pressure"),
    ]
    assert doc[0:1]._.long_form is None


def _with_entity(nlp, label: str = "DISEASE") -> Doc:  # type: ignore[no-untyped-def]
    doc = nlp.make_doc(TEXT)
    doc.ents = [Span(doc, 2, 5, label, kb_id="D018500"), Span(doc, 6, 7, "CHEMICAL")]
    for _, pipe in nlp.pipeline:
        doc = pipe(doc)
    return doc


def test_short_forms_get_the_long_forms_label_without_overlaps() -> None:
    doc = _with_entity(_nlp())
    ents = [(e.text, e.start_char, e.label_, e.kb_id_) for e in doc.ents]
    # The NDI inside the brackets is already an entity: kept as it was.
    assert ents == [("nephrogenic diabetes insipidus", 14, "DISEASE", "D018500"),
                    ("NDI", 46, "CHEMICAL", ""), ("NDI", 65, "DISEASE", "D018500")]


def test_labels_and_switch_limit_propagation() -> None:
    assert len(_with_entity(_nlp(labels=["CHEMICAL"])).ents) == 2
    assert len(_with_entity(_nlp(label_short_forms=False)).ents) == 2


def test_survives_docbin_and_to_disk(tmp_path: Path) -> None:
    nlp = _nlp()
    doc = nlp(TEXT)
    restored = list(DocBin(store_user_data=True, docs=[doc]).to_bytes() and DocBin().from_bytes(
        DocBin(store_user_data=True, docs=[doc]).to_bytes()).get_docs(nlp.vocab))[0]
    doc.to_disk(tmp_path / "doc")
    from_disk = Doc(nlp.vocab).from_disk(tmp_path / "doc")
    for other in (restored, from_disk):
        assert [(s.text, s._.long_form.text) for s in other._.abbreviations] == [
            (s.text, s._.long_form.text) for s in doc._.abbreviations]


def test_pipeline_to_disk_and_back(tmp_path: Path) -> None:
    nlp = _nlp(min_reliability=0.7)
    nlp.to_disk(tmp_path / "nlp")
    loaded = spacy.load(tmp_path / "nlp")
    assert loaded.get_pipe_config("biobert_abbreviation_detector")["min_reliability"] == 0.7
    assert len(loaded(TEXT)._.abbreviations) == 4


def test_in_a_plain_blank_pipeline() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_abbreviation_detector")
    assert [s.text for s in nlp(TEXT)._.abbreviations] == ["NDI", "NDI", "BP", "BP"]


def test_invalid_min_reliability() -> None:
    with pytest.raises(ValueError, match="min_reliability"):
        _nlp(min_reliability=2.0)


PUBTATOR = """1|t|Nephrogenic diabetes insipidus (NDI) and lithium.
1|a|Lithium (Li) causes NDI. Paclitaxel (Taxol) was given to rats (n = 4).
1\t0\t30\tNephrogenic diabetes insipidus\tDisease\tD018500
1\t32\t35\tNDI\tDisease\tD018500
1\t50\t57\tLithium\tChemical\tD008094
1\t59\t61\tLi\tChemical\tD008094
1\t70\t73\tNDI\tDisease\tD018500
1\t75\t85\tPaclitaxel\tChemical\tD017239
1\t87\t92\tTaxol\tChemical\tD017239

"""


@pytest.fixture()
def pubtator(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.PubTator.txt"
    path.write_text(PUBTATOR, encoding="utf8")
    return path


def test_gold_pairs_from_annotations(pubtator: Path) -> None:
    ((raw, gold),) = load_gold([pubtator])
    got = [(raw.text[g.short[0]:g.short[1]], raw.text[g.long[0]:g.long[1]]) for g in gold]
    # A synonym in brackets (Taxol) is no definition.
    assert got == [("NDI", "Nephrogenic diabetes insipidus"), ("Li", "Lithium")]
    assert gold_pairs(raw) == gold


def _pubtator(doc_id: str, text: str, mentions: List[Tuple[str, str]]) -> str:
    """A PubTator document: each mention (text, id) at its first offset after the last."""
    lines, at = [f"{doc_id}|t|{text}", f"{doc_id}|a|"], 0
    for mention, concept in mentions:
        at = text.index(mention, at)
        lines.append(f"{doc_id}\t{at}\t{at + len(mention)}\t{mention}\tChemical\t{concept}")
        at += len(mention)
    return "\n".join(lines) + "\n\n"


def test_gold_long_forms_fit_their_short_forms(tmp_path: Path) -> None:
    path = tmp_path / "fit.PubTator.txt"
    path.write_text(_pubtator("2", (
        "Men with X-linked adrenomyeloneuropathy (AMN) and myotonic dystrophy (DM) had "
        "verapamil-induced vasospasm (VIV) after dexamethasone (dex) or amphetamine sulfate "
        "(adderall)."), [
        ("X-linked adrenomyeloneuropathy", "D1"), ("AMN", "D1"),
        ("myotonic dystrophy", "D2"), ("DM", "D2"), ("vasospasm", "D3"), ("VIV", "D3"),
        ("dexamethasone", "D4"), ("dex", "D4"),
        ("amphetamine sulfate", "D5"), ("adderall", "D5")]), encoding="utf8")
    ((raw, gold),) = load_gold([path])
    got = [(raw.text[g.short[0]:g.short[1]], raw.text[g.long[0]:g.long[1]]) for g in gold]
    # A modifier is dropped only where the rest holds the short form (not "myotonic");
    # a mention that cannot hold its short form gets the words before it; a lowercase
    # short form is one only if its letters are in the long form (not "adderall").
    assert got == [("AMN", "adrenomyeloneuropathy"), ("DM", "myotonic dystrophy"),
                   ("VIV", "verapamil-induced vasospasm"), ("dex", "dexamethasone")]


def test_an_unannotated_short_form_is_unjudged(tmp_path: Path) -> None:
    path = tmp_path / "unjudged.PubTator.txt"
    path.write_text(_pubtator("3", "Rats got phenobarbital (PB) or lithium (Li) daily.", [
        ("phenobarbital", "D1"), ("lithium", "D2"), ("Li", "D2")]), encoding="utf8")
    metrics = evaluate_abbreviations([path])
    assert (metrics["true_positives"], metrics["false_positives"]) == (1, 0)
    assert metrics["unjudged"] == 1


def test_evaluation_and_command(pubtator: Path, tmp_path: Path) -> None:
    metrics = evaluate_abbreviations([pubtator])
    assert (metrics["precision"], metrics["recall"], metrics["gold_pairs"]) == (100.0, 100.0, 2)
    from typer.testing import CliRunner

    from spacy_biobert.cli import app

    out = tmp_path / "m.json"
    result = CliRunner().invoke(app, ["evaluate-abbreviations", str(pubtator), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["f1"] == 100.0


def test_beside_another_packages_extensions() -> None:
    # As scispacy's AbbreviationDetector registers the names (default values, force=True).
    Doc.set_extension("abbreviations", default=[], force=True)
    Span.set_extension("long_form", default=None, force=True)
    try:
        nlp = spacy.blank("en")
        nlp.add_pipe("biobert_abbreviation_detector")
        doc = nlp("Patients with nephrogenic diabetes insipidus (NDI) were studied. NDI is rare.")
        assert [(s.text, s._.long_form.text) for s in doc._.abbreviations] == [
            ("NDI", "nephrogenic diabetes insipidus")] * 2
        assert len(abbreviation_pairs(doc)) == 2
    finally:
        Doc.remove_extension("abbreviations")
        Span.remove_extension("long_form")
        install_extensions()
    assert ours(Doc, "abbreviations") and ours(Span, "long_form")


def test_a_later_use_refers_to_the_latest_definition() -> None:
    text = ("Acetyl salicylic acid (ASA) was given. ASA helped. Later, amino salicylic acid "
            "(ASA) came. "
            "ASA again.")
    doc = _nlp()(text)
    longs = [s._.long_form.text for s in doc._.abbreviations]
    assert longs == ["Acetyl salicylic acid"] * 2 + ["amino salicylic acid"] * 2


def test_a_use_before_the_definition_is_no_abbreviation() -> None:
    doc = _nlp()("NDI is rare. Nephrogenic diabetes insipidus (NDI) is studied.")
    assert [s.start_char for s in doc._.abbreviations] == [45]


def test_stored_as_offsets() -> None:
    doc = _nlp()(TEXT)
    assert doc.user_data[ABBREVIATIONS_KEY][0] == [46, 49, 14, 44]
    assert len(abbreviation_pairs(doc)) == 4
