"""Short form to long form character matching.

The base is Schwartz & Hearst (2003): walk the short form right to left, find each of its
letters and digits in the candidate long form, also right to left, the first one at the
start of a word. On top, as in Ab3P (Sohn et al., 2008), strategies tried from the most
reliable down, each match getting a reliability score in ``[0, 1]``:

- ``initials``: every character is the first letter of a word (``NDI`` = *nephrogenic
  diabetes insipidus*), words split at spaces, hyphens and slashes;
- ``plural``: the same for a short form with a plural ``s`` (``NSAIDs``);
- ``permuted``: two or three initials in another order (*myotonic dystrophy* (DM));
- ``letters``: Schwartz & Hearst's match, and one taking each character at the nearest
  word start that has it, the better scored: by how many characters fall on word starts
  and how many content words of the long form contribute nothing;
- ``formula``: a chemical formula matched without its atom counts (*carbon
  tetrachloride* (CCl4)).

Greek letters match their Latin initial (``TNF-α`` = *tumor necrosis factor alpha*).
"""
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

GREEK = dict(zip("αβγδεζηθικλμνξοπρστυφχψω", "abgdezetiklmnxoprstufcpo"))
GREEK.update(zip("ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ", "abgdezetiklmnxoprstufcpo"))
#: Words a long form may hold without giving the short form a letter.
STOPWORDS = frozenset("of the and in with for to on by a an at from or as into type".split())
#: Reliability of a permuted match (35 of 40 right on the BC5CDR + NCBI Disease pairs).
PERMUTED = 0.7
BOUNDARY = frozenset(" -/\t\n([,")
#: Reliability taken off a match that leaves a formula's atom counts out (CCl4, CaCl(2)).
FORMULA_PENALTY = 0.1
_COUNT = re.compile(r"(?<=[A-Za-z])(?:\d+|\(\d+\))$")
#: A formula of common elements (``CO``, ``CCl``, ``CaCl``), not a gene symbol (``RB``).
_FORMULA = re.compile(r"^(?:(?:He|Li|Be|Na|Mg|Al|Si|Cl|Ar|Ca|Cr|Mn|Fe|Co|Ni|Cu|Zn|Se|Br|Ag|Sn"
                      r"|Au|Hg|Pb|H|B|C|N|O|F|P|S|K|I)\d*)+$")


@dataclass(frozen=True)
class Match:
    """A long form found for a short form.

    start (int): Offset of the long form in the searched text.
    strategy (str): ``initials``, ``plural``, ``permuted``, ``letters`` or ``formula``.
    reliability (float): Estimated precision of the match, 0 to 1.
    """

    start: int
    strategy: str
    reliability: float


def normalize(text: str) -> str:
    """Lowercase, Greek letters as their Latin initial; same length as ``text``."""
    return "".join(GREEK.get(c, c) for c in text.lower())


def _word_start(text: str, i: int) -> bool:
    return i == 0 or text[i - 1] in BOUNDARY or (text[i].isdigit() != text[i - 1].isdigit()
                                                  and text[i - 1].isalnum())


def _chars(short: str) -> str:
    return "".join(c for c in normalize(short) if c.isalnum())


def match_initials(short: str, lf: str) -> Optional[int]:
    """Start of the long form in ``lf`` (normalized) whose word initials spell ``short``,
    right to left; words without a letter of it are allowed only if they are stopwords."""
    chars = _chars(short)
    if not chars:
        return None
    i = len(lf)
    for c in reversed(chars):
        i -= 1
        while i >= 0 and not (lf[i] == c and _word_start(lf, i)):
            if _word_start(lf, i) and lf[i].isalnum() and not _stopword_at(lf, i):
                return None  # a content word that gives the short form nothing
            i -= 1
        if i < 0:
            return None
    return i


def match_permuted(short: str, lf: str) -> Optional[int]:
    """Start of the last two or three words of ``lf`` whose initials are the short form's
    characters in another order (*myotonic dystrophy* (DM), from *dystrophia myotonica*)."""
    chars = _chars(short)
    if not 2 <= len(chars) <= 3 or not short.isupper():
        return None
    words = lf.split()
    if len(words) < len(chars):
        return None
    last = words[-len(chars):]
    if any(w in STOPWORDS or not w[:1].isalpha() for w in last):
        return None
    if sorted(w[0] for w in last) != sorted(chars):
        return None
    return len(lf) - len(" ".join(last))


def _stopword_at(lf: str, i: int) -> bool:
    end = i
    while end < len(lf) and lf[end].isalpha():
        end += 1
    return lf[i:end] in STOPWORDS


def _at_word_start(lf: str, c: str, i: int) -> int:
    """Offset of the nearest ``c`` at a word start at or before ``i``, -1 if none."""
    i = lf.rfind(c, 0, i + 1)
    while i >= 0 and not _word_start(lf, i):
        i = lf.rfind(c, 0, i)
    return i


def match_letters(short: str, lf: str, *, word_starts: bool = False
                  ) -> Optional[Tuple[int, List[int]]]:
    """Schwartz & Hearst's match on normalized text: start of the long form and the offset
    each short-form character matched (right to left), the first one at a word start.

    word_starts (bool): Take each character at the nearest word start that has it, inside
        a word only where no word start is left: *hereditary nonpolyposis colorectal
        cancer* (HNPCC) rather than both ``C`` in *cancer*.
    """
    chars = _chars(short)
    if not chars:
        return None
    hits: List[int] = []
    i = len(lf) - 1
    for k in range(len(chars) - 1, -1, -1):
        c = chars[k]
        j = _at_word_start(lf, c, i) if word_starts or k == 0 else lf.rfind(c, 0, i + 1)
        if j < 0 and k > 0:
            j = lf.rfind(c, 0, i + 1)
        if j < 0:
            return None
        hits.append(j)
        i = j - 1
    return _whole_word(lf, hits[-1]), hits


def _whole_word(lf: str, i: int) -> int:
    """Back to the start of the word holding ``i`` (``anti-`` stays with ``inflammatory``,
    ``N-[4-(5-nitro`` with ``furyl``), past a bracket the word does not close."""
    hit = i
    while i > 0 and not lf[i - 1].isspace():
        i -= 1
    end = hit
    while end < len(lf) and not lf[end].isspace():
        end += 1
    start = i
    opened: List[int] = []
    for k in range(i, end):
        if lf[k] in "([":
            opened.append(k)
        elif lf[k] in ")]":
            if opened:
                opened.pop()
            elif k < hit:
                start = k + 1
    unclosed = [k for k in opened if k < hit]
    return unclosed[-1] + 1 if unclosed else start


def _to_word_starts(lf: str, hits: List[int]) -> List[int]:
    """Move each hit (left to right) to the start of its word where that character is the
    same: ``a`` of *ataxia* rather than its last ``a``."""
    out: List[int] = []
    for i in sorted(hits):
        ws = i
        while ws > 0 and not _word_start(lf, ws):
            ws -= 1
        if ws < i and lf[ws] == lf[i] and (not out or ws > out[-1]):
            i = ws
        out.append(i)
    return out


def _letters_reliability(short: str, lf: str, start: int, hits: List[int]) -> float:
    """Share of characters on word starts (or continuing a run from one: ``METH`` in
    *methamphetamine*), less for content words that give the short form nothing."""
    hits = _to_word_starts(lf, hits)
    hit_set = set(hits)
    at_starts = 0
    run = False
    for i in sorted(hits):
        run = _word_start(lf, i) or (run and i - 1 in hit_set)
        at_starts += run
    share = at_starts / len(hits)
    unused = 0
    words = _words(lf, start)
    previous = (-1, "")
    for word_start, word in words:
        prefix = previous[0] in hit_set and len(previous[1]) == 1 and lf[word_start - 1] == "-"
        previous = (word_start, word)
        if word in STOPWORDS or not any(c.isalpha() for c in word) or prefix:
            continue  # *X-linked*: the part after a one-letter prefix that gave a letter
        if any(i in hit_set for i in range(word_start, word_start + len(word))):
            continue
        unused += 1
    score = 0.5 + 0.4 * share - 0.25 * unused
    if " " not in lf[start:] and len(lf) - start >= 2 * len(hits):
        score += 0.1  # one long word: a chemical name (3,4-methylenedioxymethamphetamine)
    if short.islower():
        score -= 0.1
    return max(0.0, min(0.95, score))


def _words(lf: str, start: int) -> List[Tuple[int, str]]:
    out = []
    i = start
    for part in lf[start:].replace("-", " ").replace("/", " ").split(" "):
        if part:
            out.append((i, part))
        i += len(part) + 1
    return out


def best_match(short: str, window: str) -> Optional[Match]:
    """The most reliable long form for ``short`` that ends at the end of ``window``.

    A chemical formula ending in a count (``CO2``, ``CCl4``, ``CaCl(2)``: symbols of common
    elements), whose characters cannot all be found, is matched without the count
    (``formula``), a little less reliable: the count is the number of atoms, spelled as a
    prefix or not at all.

    short (str): The short form.
    window (str): The text before the bracket (or the bracket's content).
    RETURNS (Optional[Match]): The match, None if the characters cannot be found.
    """
    lf = normalize(window)
    found = _best_match(short, lf)
    count = _COUNT.search(short)
    if (found is not None or count is None or sum(c.isalpha() for c in short) < 2
            or not _FORMULA.match(short[:count.start()])):
        return found
    stem = _best_match(short[:count.start()], lf)
    if stem is None:
        return None
    return Match(stem.start, "formula", max(0.0, stem.reliability - FORMULA_PENALTY))


def _best_match(short: str, lf: str) -> Optional[Match]:
    start = match_initials(short, lf)
    if start is not None:
        return Match(_whole_word(lf, start), "initials", 0.99)
    if short.endswith("s") and len(short) > 2 and short[-2].isupper():
        start = match_initials(short[:-1], lf)
        if start is not None:
            return Match(_whole_word(lf, start), "plural", 0.97)
    found = None
    letters = match_letters(short, lf)
    if letters is not None:
        found = Match(letters[0], "letters", _letters_reliability(short, lf, *letters))
        starts = match_letters(short, lf, word_starts=True) if found.reliability < 0.6 else None
        if starts is not None and starts[1] != letters[1]:
            score = _letters_reliability(short, lf, *starts)
            if score > found.reliability:
                found = Match(starts[0], "letters", score)
    permuted = match_permuted(short, lf)
    if permuted is not None and (found is None or found.reliability < PERMUTED):
        return Match(permuted, "permuted", PERMUTED)
    return found
