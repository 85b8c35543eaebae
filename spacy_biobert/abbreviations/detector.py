"""The abbreviation detector: definitions in a text, and every later use of their short forms.

:func:`find_definitions` works on plain text (character offsets), :func:`detect` on a
``Doc`` (token spans). Both are pure Python and linear in the length of the text.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from .candidates import Candidate, find_candidates
from .matching import STOPWORDS, best_match

#: Reliability below which a definition is dropped (tuned on BC5CDR + NCBI Disease pairs).
DEFAULT_MIN_RELIABILITY = 0.5


@dataclass(frozen=True)
class Definition:
    """A short form defined in a text.

    short (Tuple[int, int]): Character offsets of the short form.
    long (Tuple[int, int]): Character offsets of the long form.
    strategy (str): The matching strategy that found it.
    reliability (float): Its estimated precision, 0 to 1.
    """

    short: Tuple[int, int]
    long: Tuple[int, int]
    strategy: str
    reliability: float


@dataclass
class DetectionStats:
    """Work counters, to keep the detector's cost visible (and bounded in tests)."""

    candidates: int = 0
    match_calls: int = 0
    window_chars: int = 0
    by_strategy: Dict[str, int] = field(default_factory=dict)


def _long_form(text: str, cand: Candidate, stats: DetectionStats) -> Optional[Definition]:
    short = text[cand.short[0]:cand.short[1]]
    w_start, w_end = cand.window
    while w_end > w_start and text[w_end - 1].isspace():
        w_end -= 1
    if w_end - w_start <= len(short):
        return None
    # The clause after the last comma first: "muscular dystrophy, myotonic dystrophy (DM)".
    clause = text.rfind(", ", w_start, w_end)
    starts = [clause + 2, w_start] if clause >= 0 and cand.order == "lf_sf" else [w_start]
    for start in starts:
        found = _match_in(text, short, cand, start, w_end, stats)
        if found is not None:
            return found
    return None


def _match_in(text: str, short: str, cand: Candidate, w_start: int, w_end: int,
              stats: DetectionStats) -> Optional[Definition]:
    window = text[w_start:w_end]
    stats.match_calls += 1
    stats.window_chars += len(window)
    match = best_match(short, window)
    if match is None:
        return None
    start = w_start + match.start
    while start < w_end and not text[start].isalnum() and text[start] not in "([":
        start += 1
    if cand.order == "sf_lf" and start > w_start + 4:
        return None  # ``SF (long form)``: the bracket must hold the long form only
    first = text[start:w_end].split(" ", 1)[0].lower()
    if first in STOPWORDS:
        return None  # "thrombin and tranexamic acid (AMCA)": the long form is cut wrong
    if not _plausible(short, text[start:w_end]):
        return None
    return Definition(cand.short, (start, w_end), match.strategy, match.reliability)


def _plausible(short: str, long_text: str) -> bool:
    """Schwartz & Hearst's sanity checks on a found long form."""
    if len(long_text) <= len(short):
        return False
    words = len(long_text.split())
    if words > min(len(short) + 5, len(short) * 2):
        return False
    at = long_text.find(short)
    while at >= 0:
        end = at + len(short)
        if ((at == 0 or not long_text[at - 1].isalnum())
                and (end == len(long_text) or not long_text[end].isalnum())):
            return False  # the short form is a word of its own long form
        at = long_text.find(short, at + 1)
    return True


def find_definitions(
    text: str,
    *,
    min_reliability: float = DEFAULT_MIN_RELIABILITY,
    stats: Optional[DetectionStats] = None,
) -> List[Definition]:
    """Abbreviation definitions in ``text`` (a short form may be defined more than once).

    text (str): The text.
    min_reliability (float): Drop definitions scored below this.
    stats (Optional[DetectionStats]): Counters to update.
    RETURNS (List[Definition]): Definitions in text order.
    """
    stats = stats if stats is not None else DetectionStats()
    found: List[Definition] = []
    for cand in find_candidates(text):
        stats.candidates += 1
        definition = _long_form(text, cand, stats)
        if definition is None or definition.reliability < min_reliability:
            continue
        found.append(definition)
        stats.by_strategy[definition.strategy] = stats.by_strategy.get(definition.strategy,
                                                                       0) + 1
    return sorted(found, key=lambda d: d.short)


@dataclass(frozen=True)
class Abbreviation:
    """A short form in a Doc (its definition or a later use) and its long form."""

    short: Span
    long: Span
    reliability: float


def _span(doc: Doc, offsets: Tuple[int, int]) -> Optional[Span]:
    return doc.char_span(offsets[0], offsets[1], alignment_mode="expand")


def detect(
    doc: Doc, *, min_reliability: float = DEFAULT_MIN_RELIABILITY,
    stats: Optional[DetectionStats] = None,
) -> List[Abbreviation]:
    """Definitions in ``doc`` and every later occurrence of each short form.

    doc (Doc): The document.
    min_reliability (float): Drop definitions scored below this.
    stats (Optional[DetectionStats]): Counters to update.
    RETURNS (List[Abbreviation]): Short forms in document order, each with its long form.
    """
    out: List[Abbreviation] = []
    # The latest definition of a short form before a use is the one that use refers to.
    defined: Dict[str, Tuple[Span, Span, float]] = {}
    definitions: Dict[int, Tuple[Span, Span, float]] = {}
    for definition in find_definitions(doc.text, min_reliability=min_reliability,
                                       stats=stats):
        short, long = _span(doc, definition.short), _span(doc, definition.long)
        if short is None or long is None or short.start in definitions:
            continue
        if short.start < long.end and long.start < short.end:
            continue
        definitions[short.start] = (short, long, definition.reliability)
        defined.setdefault(short.text, (short, long, definition.reliability))
    if not defined:
        return out
    matcher = PhraseMatcher(doc.vocab, attr="ORTH")
    for key, (short, _, _) in defined.items():
        matcher.add(key, [short.as_doc()])
    latest: Dict[str, Tuple[Span, Span, float]] = {}
    for match_id, start, end in sorted(matcher(doc), key=lambda m: m[1]):
        key = doc.vocab.strings[match_id]
        if start in definitions and definitions[start][0].text == key:
            latest[key] = definitions[start]
        if key not in latest:
            continue  # used before it is defined
        _, long, reliability = latest[key]
        if long.start <= start < long.end:
            continue
        out.append(Abbreviation(Span(doc, start, end), long, reliability))
    return out
