"""Mention and alias normalization shared by the KB, the candidates and the linker.

Folds case, Unicode compatibility forms (NFKC), every dash and hyphen to ``-`` and
Greek letters to their names (``α-tocopherol`` -> ``alpha-tocopherol``), then
treats hyphens, commas and other punctuation as spaces, so ``TNF‑α``, ``TNF-alpha``
and ``tnf alpha`` meet.
"""
import re
import unicodedata
from typing import Dict

GREEK: Dict[str, str] = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu",
    "ν": "nu", "ξ": "xi", "ο": "omicron", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma",
    "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ad\ufe63\uff0d]")
_NON_WORD = re.compile(r"[^\w]+")
_SPACES = re.compile(r"\s+")
_BRITISH = [(re.compile(p), r) for p, r in (
    (r"aemi", "emi"), (r"\boe(?=[ds])", "e"), (r"haem", "hem"),
    (r"\b(tum|col|behavi)our", r"\1or"),
    (r"ae(?=mia|mat|mor|stet|sthe)", "e"), (r"oea\b", "ea"), (r"isation", "ization"),
    (r"sulph", "sulf"))]


def normalize(text: str) -> str:
    """The lookup key of a mention or alias: lower-case words joined by single spaces.

    text (str): Surface text.
    RETURNS (str): The key ("" for text with no letters or digits).
    """
    value = unicodedata.normalize("NFKC", text)
    value = _DASHES.sub("-", value).lower()
    if any(ch in GREEK for ch in value):
        value = "".join(f" {GREEK[ch]} " if ch in GREEK else ch for ch in value)
    value = _NON_WORD.sub(" ", value).replace("_", " ")
    return _SPACES.sub(" ", value).strip()


def singular(key: str) -> str:
    """Drop a plural ``s`` from the last word of a normalized key (``seizures``)."""
    if len(key) > 4 and key.endswith("s") and not key.endswith(("ss", "us", "is")):
        return key[:-1]
    return key


def american(key: str) -> str:
    """American spelling of a normalized key (``anaemia``, ``oedema``, ``tumour``)."""
    for pattern, repl in _BRITISH:
        key = pattern.sub(repl, key)
    return key


_CODE_GAP = re.compile(r"(?<=[a-z]) (?=\d)")


def joined_code(key: str) -> str:
    """A normalized key with no space between a letter and the digit after it: a
    code or number written with brackets or a hyphen (``PGE(2)``, ``IL-6``), which
    :func:`normalize` turns into spaces, meets its alias written in one (``pge2``)."""
    return _CODE_GAP.sub("", key)


#: Words that carry no concept in a disease or chemical name ("cancer of the breast").
STOP_WORDS = frozenset({"of", "the", "in", "a", "an", "with", "to", "for", "on", "by"})
#: Head nouns MeSH files under one concept: "tumors", "cancer" and "neoplasms".
HEAD_SYNONYMS: Dict[str, str] = {"tumor": "neoplasm", "cancer": "neoplasm",
                                 "neoplasia": "neoplasm", "neoplastic": "neoplasm"}
#: Generic heads dropped from a name of two or more words ("kidney disease" -> "kidney").
GENERIC_HEADS = frozenset({"disease", "disorder", "syndrome", "illness", "condition"})
_SUFFIXES = ("ies", "es", "s", "ic", "al", "e")


def stem(word: str) -> str:
    """A light stem: American spelling, head synonyms, then one plural or adjective
    suffix off (``tumours`` -> ``neoplasm``, ``prostatic``/``prostate`` -> ``prostat``)."""
    word = american(word)
    word = HEAD_SYNONYMS.get(singular(word), word)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


_GENERIC_STEMS = frozenset(stem(g) for g in GENERIC_HEADS)


def token_key(key: str) -> str:
    """Word-order-free key of a normalized key: stop words and generic heads out, words
    stemmed and sorted (``neoplasms pancreatic`` and ``pancreatic tumors`` meet).

    key (str): A normalized key (:func:`normalize`).
    RETURNS (str): The token key ("" when nothing is left).
    """
    words = [w for w in key.split() if w not in STOP_WORDS]
    stems = {stem(w) for w in words}
    reduced = stems - _GENERIC_STEMS
    return " ".join(sorted(reduced or stems))


#: Counter-ions and salt forms: a drug's salt is indexed under the drug itself.
SALT_WORDS = frozenset({
    "hydrochloride", "hcl", "dihydrochloride", "hydrobromide", "sodium", "potassium",
    "calcium", "magnesium", "sulfate", "sulphate", "isethionate", "fumarate", "maleate",
    "mesylate", "citrate", "tartrate", "bitartrate", "acetate", "phosphate", "succinate",
    "besylate", "tosylate", "bromide", "chloride", "nitrate", "lactate", "gluconate",
    "monohydrate", "dihydrate", "anhydrous", "disodium"})


#: Relational adjectives of organs and systems, as MeSH names the organ's diseases.
ORGAN_NOUNS: Dict[str, str] = {
    "renal": "kidney", "nephric": "kidney", "pulmonary": "lung", "hepatic": "liver",
    "cardiac": "heart", "myocardial": "heart", "neurological": "nervous system",
    "neurologic": "nervous system", "cutaneous": "skin", "dermal": "skin",
    "ocular": "eye", "cerebral": "brain", "gastric": "stomach", "venous": "vascular",
    "hematological": "hematologic", "visual": "vision"}
#: Nouns that say only that something is wrong with what precedes them ("renal
#: involvement", "pulmonary toxicity"): MeSH files such mentions under the disease
#: of that organ or system.
VAGUE_HEADS = frozenset({
    "lesion", "involvement", "toxicity", "dysfunction", "damage", "complication",
    "abnormality", "event", "manifestation", "injury", "impairment", "disturbance",
    "anomaly", "failure", "loss"})


def singular_noun(key: str) -> str:
    """:func:`singular` that also turns a last word's ``-ies`` into ``-y``
    (``liver injuries`` -> ``liver injury``); for mentions, not for index keys."""
    if key.endswith("ies") and len(key.rsplit(" ", 1)[-1]) > 4:
        return key[:-3] + "y"
    return singular(key)


def organ_disease(key: str) -> str:
    """``renal involvement`` -> ``kidney disease``: a normalized key ending in a vague
    head (:data:`VAGUE_HEADS`, singular or plural) with its organ adjectives as nouns
    and the head replaced by "disease"; "" for any other key."""
    words = key.split()
    if len(words) < 2 or singular_noun(words[-1]) not in VAGUE_HEADS:
        return ""
    return " ".join([ORGAN_NOUNS.get(w, w) for w in words[:-1]] + ["disease"])


#: Histological heads of a cancer named by its site ("prostate carcinoma"): MeSH and
#: the corpora file it under the site's neoplasms (Prostatic Neoplasms), not under the
#: histology (training splits: breast, ovarian, colon, bladder, esophageal, gastric).
CARCINOMA_HEADS = frozenset({"carcinoma", "adenocarcinoma"})


def site_neoplasm(key: str) -> str:
    """``prostate carcinoma`` -> ``prostate neoplasms``: a normalized key of two or more
    words ending in a carcinoma head (:data:`CARCINOMA_HEADS`, singular or plural) with
    that head replaced by "neoplasms"; "" for any other key."""
    words = key.split()
    if len(words) < 2 or singular(words[-1]) not in CARCINOMA_HEADS:
        return ""
    return " ".join(words[:-1] + ["neoplasms"])


def acid_form(key: str) -> str:
    """The other name of an acid and its anion: ``metrizoate`` <-> ``metrizoic acid``,
    ``valproic acid`` -> ``valproate``; "" when the key is neither form."""
    words = key.split()
    if len(words) >= 2 and words[-1] == "acid" and words[-2].endswith("ic"):
        return " ".join(words[:-2] + [words[-2][:-2] + "ate"])
    if words and words[-1].endswith("ate") and len(words[-1]) > 5:
        return " ".join(words[:-1] + [words[-1][:-3] + "ic", "acid"])
    return ""


def without_salt(key: str) -> str:
    """A normalized key without its salt words (``metformin hydrochloride`` ->
    ``metformin``); the key itself when it is all salt words or has none."""
    words = [w for w in key.split() if w not in SALT_WORDS]
    return " ".join(words) if words else key
