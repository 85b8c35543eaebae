"""Bracket candidates for abbreviation definitions, found in one pass over the text.

Two orders are considered, as in Schwartz & Hearst (2003):

- ``long form (SF)``: the bracket holds the short form, the text before it the long form;
- ``SF (long form)``: the word before the bracket is the short form.

Brackets that hold citations (``Smith et al., 1995``), numbers and units (``n = 12``,
``20 mg/kg``, ``P < 0.05``) or enumerations (``iv``, ``b``) are skipped before any
matching, and every window is capped in length, so the work is linear in the text.
"""
import re
from dataclasses import dataclass
from typing import Iterator, List, Tuple

OPEN_CLOSE = {"(": ")", "[": "]"}
CLOSE_OPEN = {")": "(", "]": "["}
#: Longest bracket content looked at (characters): longer ones are asides, not definitions.
MAX_INNER = 120
#: Longest short form (characters), Schwartz & Hearst's limit.
MAX_SHORT = 12
#: Characters of text before a bracket searched for a long form.
MAX_WINDOW = 200

_CITATION = re.compile(r"\bet al\b|\b(1[89]|20)\d\d[a-z]?\b|\bref\b|\bfig\b|\btable\b", re.I)
_BRACKET = re.compile(r"[()\[\]]")
_LETTERS = re.compile(r"[^\W\d_]+")
_RELATION = re.compile(r"[<>=≤≥±]|\bp\s*[<>=]|\bn\s*=|\bvs\b|\bi\.e\b|\be\.g\b", re.I)
_ROMAN = re.compile(r"^(?:i{1,3}|iv|v|vi{1,3}|ix|x|xi{1,3})$", re.I)
_SENTENCE_END = re.compile(r"(?:[.!?;:]\s+(?=\S))|[\n\r]")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Candidate:
    """A short-form candidate and the text its long form is searched in.

    short (Tuple[int, int]): Character offsets of the short form.
    window (Tuple[int, int]): Character offsets of the text holding the long form.
    order (str): ``"lf_sf"`` (``long form (SF)``) or ``"sf_lf"`` (``SF (long form)``).
    """

    short: Tuple[int, int]
    window: Tuple[int, int]
    order: str


def bracket_pairs(text: str) -> Iterator[Tuple[int, int]]:
    """Offsets of the opening and closing bracket of every balanced pair, by closing offset.

    One pass with a stack: an unclosed bracket never pairs, a closing one without its
    opening is ignored, and a mismatched closing bracket drops the brackets above it.
    """
    stack: List[Tuple[str, int]] = []
    for found in _BRACKET.finditer(text):
        i, char = found.start(), found.group()
        if char in OPEN_CLOSE:
            stack.append((char, i))
        elif char in CLOSE_OPEN and stack:
            want = CLOSE_OPEN[char]
            while stack and stack[-1][0] != want:
                stack.pop()
            if stack:
                _, start = stack.pop()
                yield start, i


def is_numeric(text: str) -> bool:
    """A number with at most lowercase units: ``10 mg/kg``, ``95 %``, ``2.5-fold``, ``n = 12``."""
    if not any(c.isdigit() for c in text):
        return False
    return all(word.islower() and len(word) <= 6 for word in _LETTERS.findall(text))


def is_short_form(text: str) -> bool:
    """Whether a bracket's content can be a short form (Schwartz & Hearst's filters plus
    the non-abbreviations of biomedical text)."""
    if not 2 <= len(text) <= MAX_SHORT or len(text.split()) > 2:
        return False
    if not text[0].isalnum() or not any(c.isalpha() for c in text):
        return False
    if _ROMAN.match(text) or is_numeric(text) or _RELATION.search(text):
        return False
    if text.islower() and len(text) > 4 and "-" not in text:
        return False  # an ordinary word ("(mice)"), not an abbreviation
    return True


def _trim_inner(text: str, start: int, end: int) -> Tuple[int, int]:
    """The first clause of a bracket's content: ``(SF, with ...)`` and ``(SF; ...)``."""
    inner = text[start:end]
    for sep in (";", ", "):
        cut = inner.find(sep)
        if cut > 0:
            end = start + cut
            inner = text[start:end]
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _window_start(text: str, open_at: int) -> int:
    """Start of the long-form window before ``open_at``: capped, and never across a
    sentence boundary."""
    start = max(0, open_at - MAX_WINDOW)
    last = start
    for match in _SENTENCE_END.finditer(text, start, open_at):
        last = match.end()
    return last


def _word_before(text: str, open_at: int) -> Tuple[int, int]:
    end = open_at
    while end > 0 and text[end - 1].isspace():
        end -= 1
    start = end
    while start > 0 and not text[start - 1].isspace() and end - start <= MAX_SHORT:
        start -= 1
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum() and text[end - 1] not in "+'":
        end -= 1
    return start, end


def find_candidates(text: str) -> Iterator[Candidate]:
    """Every definition candidate of ``text``, in order of the closing bracket.

    text (str): The document text.
    YIELDS (Candidate): Short-form offsets, long-form window and order.
    """
    for open_at, close_at in bracket_pairs(text):
        if close_at - open_at - 1 > MAX_INNER or close_at - open_at < 3:
            continue
        inner = text[open_at + 1:close_at]
        if _CITATION.search(inner):
            continue
        start, end = _trim_inner(text, open_at + 1, close_at)
        if start < end and is_short_form(text[start:end]):
            window = (_window_start(text, open_at), open_at)
            if window[0] < window[1]:
                yield Candidate((start, end), window, "lf_sf")
            continue
        if (len(_WORD.findall(inner)) >= 2 and not _RELATION.search(inner)
                and not is_numeric(inner)):
            short = _word_before(text, open_at)
            word = text[short[0]:short[1]]
            if short[0] < short[1] and is_short_form(word) and any(c.isupper() for c in word):
                yield Candidate(short, (start, end), "sf_lf")
