"""The biomedical tokenizer: chemical names become token-aligned; English stays sane."""
import pytest
import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer

from spacy_biobert.tokenizer import biomedical_tokenizer

CONFIG = """
[nlp]
lang = "en"
pipeline = []

[nlp.tokenizer]
@tokenizers = "spacy-biobert.BiomedicalTokenizer.v1"

[components]
"""


@pytest.mark.parametrize(
    "text, name",
    [
        ("Treatment with 5-fluorouracil failed.", "fluorouracil"),
        ("Inhibition of Na(+)/K(+)-ATPase by ouabain.", "ATPase"),
        ("Inhibition of Na(+)/K(+)-ATPase by ouabain.", "Na"),
        ("doxorubicin-induced cardiomyopathy", "doxorubicin"),
        ("doxorubicin-induced cardiomyopathy", "cardiomyopathy"),
        ("Rats received 10mg/kg haloperidol.", "haloperidol"),
        ("binding of [3H]-naloxone (8 nM)", "naloxone"),
        ("binding of [3H]-naloxone (8 nM)", "[3H]-naloxone"),
        ("the 5-HT(2A) receptor", "5-HT"),
    ],
)
def test_chemical_names_are_token_aligned(nlp: Language, text: str, name: str) -> None:
    doc = nlp(text)
    start = text.index(name)
    span = doc.char_span(start, start + len(name))
    assert span is not None, [t.text for t in doc]
    assert span.text == name


def test_exact_splits(nlp: Language) -> None:
    assert [t.text for t in nlp("5-fluorouracil")] == ["5", "-", "fluorouracil"]
    assert [t.text for t in nlp("Na(+)/K(+)-ATPase")] == [
        "Na", "(", "+", ")", "/", "K", "(", "+", ")", "-", "ATPase"]
    assert [t.text for t in nlp("doxorubicin-induced")] == ["doxorubicin", "-", "induced"]
    assert [t.text for t in nlp("10mg/kg")] == ["10", "mg", "/", "kg"]
    assert [t.text for t in nlp("[3H]-naloxone")] == ["[", "3H", "]", "-", "naloxone"]


def test_blank_english_does_not_align() -> None:
    """The reason for the tokenizer: spaCy's default keeps these names glued."""
    plain = spacy.blank("en")
    assert plain("Na(+)/K(+)-ATPase").char_span(0, 2) is None
    assert plain("[3H]-naloxone").char_span(5, 13) is None


def test_ordinary_english(nlp: Language) -> None:
    text = "The patient's heart rate, e.g. 5.5 beats."
    assert [t.text for t in nlp(text)] == [
        "The", "patient", "'s", "heart", "rate", ",", "e.g.", "5.5", "beats", "."]
    assert [t.text for t in nlp("Don't stop.")] == ["Do", "n't", "stop", "."]
    assert [t.text for t in nlp("It costs 3.75 mg.")] == ["It", "costs", "3.75", "mg", "."]


def test_tokenizer_from_config_survives_serialization() -> None:
    config = spacy.util.load_config_from_str(CONFIG)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    text = "Na(+)/K(+)-ATPase and doxorubicin-induced toxicity at 10mg/kg."
    expected = [t.text for t in nlp(text)]
    assert expected[:3] == ["Na", "(", "+"]
    assert "doxorubicin" in expected
    assert nlp.config["nlp"]["tokenizer"]["@tokenizers"] == "spacy-biobert.BiomedicalTokenizer.v1"

    data = nlp.to_bytes()
    fresh = spacy.util.load_model_from_config(config, auto_fill=True)
    fresh.from_bytes(data)
    assert [t.text for t in fresh(text)] == expected

    # a tokenizer that starts out different (spaCy's default) is overwritten by from_bytes
    blank = spacy.blank("en")
    assert isinstance(blank.tokenizer, Tokenizer) and isinstance(nlp.tokenizer, Tokenizer)
    blank.tokenizer.from_bytes(nlp.tokenizer.to_bytes())
    assert [t.text for t in blank(text)] == expected


def test_tokenizer_to_disk(tmp_path, nlp: Language) -> None:  # type: ignore[no-untyped-def]
    text = "5-fluorouracil-induced mucositis"
    expected = [t.text for t in nlp(text)]
    nlp.to_disk(tmp_path / "pipe")
    other = spacy.blank("en")
    other.tokenizer = biomedical_tokenizer(other)
    other.from_disk(tmp_path / "pipe")
    assert [t.text for t in other(text)] == expected
    assert expected[:3] == ["5", "-", "fluorouracil"]
