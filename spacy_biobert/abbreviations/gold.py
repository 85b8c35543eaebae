"""Abbreviation pairs derived from entity annotations (BC5CDR, NCBI Disease).

Where a corpus annotates a mention and, right after it in brackets, another mention with
a concept id in common, the two are a definition: ``nephrogenic diabetes insipidus (NDI)``
(``long form (SF)``) or ``NDI (nephrogenic diabetes insipidus)`` (``SF (long form)``).
The shorter one is the short form if it looks like one: at most two words, at most 70 %
of the long form's length, its first letter or digit starting a word of the long form
(``paclitaxel (Taxol)`` is a synonym, ``nephropathy (CIN)`` a long form annotated short,
neither a definition), and an uppercase letter or, for an all-lowercase one, its letters
in the long form in order (``dexamethasone (dex)``; ``acetylsalicylic acid (aspirin)`` is
a synonym).

The annotated mention is an entity, not always the long form the short form abbreviates;
for ``long form (SF)`` two corrections make it one (:func:`fit_long_form`):

- a leading word whose first character is none of the short form's, when the words
  after it hold all the short form's characters in order, is a modifier of the entity,
  not part of the definition: *X-linked* adrenoleukodystrophy (ALD), *sodium* valproate
  (VPA), but not *myotonic* dystrophy (DM) nor *sodium* 2-mercaptoethane sulphonate
  (MESNA) (Schwartz & Hearst's convention: the long form starts with a word that gives
  the short form its first character);
- a mention that cannot hold the short form's characters in order is part of its long
  form only: *nicotine-induced* nystagmus (NIN), where only *nystagmus* is annotated. The
  words before it are added, within the clause, each starting with a character of the
  short form, up to the first that make it hold them.
"""
import re
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from ..corpora.base import PathLike, RawDocument, RawMention
from ..corpora.pubtator import parse_pubtator
from .matching import STOPWORDS, match_letters, normalize

_OPENING = re.compile(r"\s*[(\[]\s*$")
_CLOSING = re.compile(r"^\s*(?:[)\]]|[;,]\s)")
_CLAUSE_END = re.compile(r"[.;:,()\[\]\n]")
#: Most words added before an annotated mention to make it hold its short form.
MAX_ADDED_WORDS = 3


@dataclass(frozen=True)
class GoldPair:
    """A definition in a document: character offsets of the short and the long form."""

    doc_id: str
    short: Tuple[int, int]
    long: Tuple[int, int]


def looks_short(short: str, long: str) -> bool:
    """Whether ``short`` can abbreviate ``long``: its shape, and its first letter or digit
    starts a word of ``long`` (no other character matching)."""
    if not (len(short.split()) <= 2 and len(short) <= 0.7 * len(long)):
        return False
    if not any(c.isupper() for c in short) and match_letters(short, normalize(long)) is None:
        return False
    first = _initial(short)
    return any(word[:1] == first for word in re.split(r"[\W_]+", normalize(long)))


def _initial(short: str) -> str:
    return next((c for c in normalize(short) if c.isalnum()), "")


def fit_long_form(text: str, short: str, start: int, end: int) -> int:
    """Start of the long form of ``short`` in ``text`` that an annotated mention
    ``text[start:end]`` before it stands for (see the module docstring)."""
    chars = normalize(short)
    while True:  # drop leading modifiers the rest of the long form does without
        space = text.find(" ", start, end)
        if (space < 0 or _initial(text[start:space]) in chars
                or match_letters(short, normalize(text[space + 1:end])) is None):
            break
        start = space + 1
    if match_letters(short, normalize(text[start:end])) is not None:
        return start
    at = start
    for _ in range(MAX_ADDED_WORDS):
        before = text[:at].rstrip()
        if not before or _CLAUSE_END.search(before[-1]):
            break
        at = max(before.rfind(" "), before.rfind("\n")) + 1
        word = text[at:].split(" ", 1)[0]
        if _initial(word) not in chars or word.lower() in STOPWORDS:
            break  # a word that gives the short form nothing: no definition to extend
        if match_letters(short, normalize(text[at:end])) is not None:
            return at
    return start


def _pair(text: str, first: RawMention, second: RawMention) -> Optional[Tuple[RawMention,
                                                                             RawMention]]:
    """(short, long) when ``second`` follows ``first`` in brackets with an id in common."""
    if not set(first.ids) & set(second.ids):
        return None
    if not _OPENING.match(text[first.end:second.start]) or "\n" in text[first.end:second.start]:
        return None
    if not _CLOSING.match(text[second.end:second.end + 3] or ")"):
        return None
    if looks_short(second.text, first.text):
        return second, first
    if looks_short(first.text, second.text):
        return first, second
    return None


def gold_pairs(raw: RawDocument) -> List[GoldPair]:
    """The definitions of one document, derived from its annotated mentions."""
    mentions = sorted(raw.mentions, key=lambda m: (m.start, -m.end))
    out = []
    for first, second in zip(mentions, mentions[1:]):
        if second.start < first.end:
            continue
        found = _pair(raw.text, first, second)
        if found is not None:
            short, long = found
            start = long.start
            if long.start < short.start:
                start = fit_long_form(raw.text, short.text, long.start, long.end)
            out.append(GoldPair(raw.doc_id, (short.start, short.end), (start, long.end)))
    return out


def load_gold(paths: Sequence[PathLike]) -> List[Tuple[RawDocument, List[GoldPair]]]:
    """Documents of PubTator files, each with its derived definitions."""
    out: List[Tuple[RawDocument, List[GoldPair]]] = []
    for path in paths:
        out.extend((raw, gold_pairs(raw)) for raw in parse_pubtator(path))
    return out


def count_pairs(docs: Iterable[Tuple[RawDocument, List[GoldPair]]]) -> int:
    """Number of gold pairs."""
    return sum(len(pairs) for _, pairs in docs)
