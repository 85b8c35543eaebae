"""Abbreviation pairs derived from entity annotations (BC5CDR, NCBI Disease).

Where a corpus annotates a mention and, right after it in brackets, another mention with
a concept id in common, the two are a definition: ``nephrogenic diabetes insipidus (NDI)``
(``long form (SF)``) or ``NDI (nephrogenic diabetes insipidus)`` (``SF (long form)``).
The shorter one is the short form if it looks like one: at most two words, an uppercase
letter, at most 70 % of the long form's length, and its first letter or digit starting a
word of the long form (``paclitaxel (Taxol)`` is a synonym, ``nephropathy (CIN)`` a long
form annotated short, neither a definition).
"""
import re
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from ..corpora.base import PathLike, RawDocument, RawMention
from ..corpora.pubtator import parse_pubtator
from .matching import normalize

_OPENING = re.compile(r"\s*[(\[]\s*$")
_CLOSING = re.compile(r"^\s*(?:[)\]]|[;,]\s)")


@dataclass(frozen=True)
class GoldPair:
    """A definition in a document: character offsets of the short and the long form."""

    doc_id: str
    short: Tuple[int, int]
    long: Tuple[int, int]


def looks_short(short: str, long: str) -> bool:
    """Whether ``short`` can abbreviate ``long``: its shape, and its first letter or digit
    starts a word of ``long`` (no other character matching)."""
    if not (len(short.split()) <= 2 and any(c.isupper() for c in short)
            and len(short) <= 0.7 * len(long)):
        return False
    first = next((c for c in normalize(short) if c.isalnum()), "")
    return any(word[:1] == first for word in re.split(r"[\W_]+", normalize(long)))


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
            out.append(GoldPair(raw.doc_id, (short.start, short.end), (long.start, long.end)))
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
