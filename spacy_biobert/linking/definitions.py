"""The long forms of a document's short forms, as the entity linker uses them.

Both come from the abbreviation detector's matching (Schwartz & Hearst 2003 with
Ab3P-style strategies, :mod:`spacy_biobert.abbreviations`):

1. an entity directly followed by ``(`` + an entity of the same label + ``)`` defines the
   inner one when the detector's character matching (``best_match``) accepts the pair:
   the entity boundaries give the long form, and short forms of one letter (``P`` for
   phlorizin), which the detector leaves out, are kept;
2. every other short form the detector found: its stored pairs when
   ``biobert_abbreviation_detector`` ran (``doc.user_data["spacy_biobert.abbreviations"]``),
   else :func:`detect` run here; their long forms need not be entities.

3. a short form the document never defines and the KB does not know (``PB`` with
   ``phenobarbital`` elsewhere): the first longer entity of its label whose whole text
   the detector's matching accepts for it, with at least the detector's reliability;
4. an apposition ``A (B)`` of two entities of one label, ``B`` alone in the bracket,
   that the character matching does not explain (``ammonium acetate (NH4Ac)``,
   ``Thorazine (chlorpromazine)``, ``daidzein (4',7-dihydroxy-isoflavone)``): the two
   name one concept, so when the KB knows exactly one of them, the other is linked as
   that one.

So a pipeline links short forms the same way with the detector or without it.
"""
from typing import Callable, Dict, List, Optional, Tuple

from spacy.tokens import Doc, Span

from ..abbreviations.detector import DEFAULT_MIN_RELIABILITY, detect
from ..abbreviations.matching import best_match
from ..abbreviations.storage import ABBREVIATIONS_KEY, abbreviation_pairs
from .normalize import normalize


def _bracketed(ents: List[Span]) -> List[Tuple[Span, Span, bool]]:
    """Consecutive entities of one label written ``A (B)``: the bracket closes, or
    the list in it goes on, right after ``B``; the flag tells whether ``B`` is the
    bracket's whole content."""
    pairs = []
    text = ents[0].doc.text if ents else ""
    for outer, inner in zip(ents, ents[1:]):
        if outer.label_ != inner.label_:
            continue
        between = text[outer.end_char:inner.start_char]
        after = text[inner.end_char:inner.end_char + 1]
        if between.strip() == "(" and after in (")", ";", ","):
            pairs.append((outer, inner, after == ")"))
    return pairs


def _entity_pairs(ents: List[Span]) -> Dict[str, str]:
    found: Dict[str, str] = {}
    for long, short, _alone in _bracketed(ents):
        if (len(short.text) < len(long.text) and " " not in short.text.strip()
                and best_match(short.text, long.text) is not None):
            found.setdefault(normalize(short.text), long.text)
    return found


def _appositions(ents: List[Span], found: Dict[str, str],
                 known: Callable[[str, str], bool]) -> Dict[str, str]:
    """``A (B)`` entity pairs where the KB knows one text exactly: the other -> it.
    ``B`` must fill the bracket: a list in brackets is more often the members or
    features of ``A`` (``Denys-Drash syndrome (nephropathy, gonadal anomaly, …)``)."""
    same: Dict[str, str] = {}
    for outer, inner, alone in _bracketed(ents):
        if not alone:
            continue
        keys = normalize(outer.text), normalize(inner.text)
        if not all(keys) or keys[0] == keys[1] or any(k in found for k in keys):
            continue
        outer_known, inner_known = (known(outer.label_, k) for k in keys)
        if outer_known and not inner_known:
            same.setdefault(keys[1], outer.text)
        elif inner_known and not outer_known:
            same.setdefault(keys[0], inner.text)
    return same


def _looks_short(text: str) -> bool:
    """One token of at most 8 characters with a capital after the first character
    (``PB``, ``PGs``; not ``Iron`` at the start of a sentence)."""
    return " " not in text and 2 <= len(text) <= 8 and any(c.isupper() for c in text[1:])


def _implied_pairs(ents: List[Span], found: Dict[str, str],
                   known: Callable[[str, str], bool]) -> Dict[str, str]:
    """Short-form entities with no definition -> the first longer entity of their label
    that the abbreviation matching accepts as their whole long form."""
    implied: Dict[str, str] = {}
    for short in ents:
        key = normalize(short.text)
        if (key in found or key in implied or not _looks_short(short.text)
                or known(short.label_, key)):
            continue
        for long in ents:
            if long.label_ != short.label_ or len(long.text) <= len(short.text) + 2:
                continue
            match = best_match(short.text, long.text)
            if (match is not None and match.start == 0
                    and match.reliability >= DEFAULT_MIN_RELIABILITY):
                implied[key] = long.text
                break
    return implied


def defined_short_forms(doc: Doc, ents: List[Span],
                        known: Optional[Callable[[str, str], bool]] = None) -> Dict[str, str]:
    """Normalized short form -> long-form text (see module docs).

    doc (Doc): The document.
    ents (List[Span]): Its entities to link, in order.
    known (Optional[Callable[[str, str], bool]]): Whether (label, key) is a KB alias;
        None leaves out steps 3 and 4, which need it.
    RETURNS (Dict[str, str]): The first long form of each short form, entity pairs first.
    """
    found = _entity_pairs(ents)
    if ABBREVIATIONS_KEY in doc.user_data:
        pairs = abbreviation_pairs(doc)
    else:
        pairs = [(a.short, a.long) for a in detect(doc)]
    for short, long in pairs:
        found.setdefault(normalize(short.text), long.text)
    if known is not None:
        found.update(_implied_pairs(ents, found, known))
        found.update(_appositions(ents, found, known))
    return found
