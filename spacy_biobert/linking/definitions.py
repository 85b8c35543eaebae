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

So a pipeline links short forms the same way with the detector or without it.
"""
from typing import Dict, List

from spacy.tokens import Doc, Span

from ..abbreviations.detector import detect
from ..abbreviations.matching import best_match
from ..abbreviations.storage import ABBREVIATIONS_KEY, abbreviation_pairs
from .normalize import normalize


def _entity_pairs(ents: List[Span]) -> Dict[str, str]:
    found: Dict[str, str] = {}
    text = ents[0].doc.text if ents else ""
    for long, short in zip(ents, ents[1:]):
        if long.label_ != short.label_ or len(short.text) >= len(long.text):
            continue
        between = text[long.end_char:short.start_char]
        after = text[short.end_char:short.end_char + 1]
        if between.strip() != "(" or after not in (")", ";", ","):
            continue
        if " " not in short.text.strip() and best_match(short.text, long.text) is not None:
            found.setdefault(normalize(short.text), long.text)
    return found


def defined_short_forms(doc: Doc, ents: List[Span]) -> Dict[str, str]:
    """Normalized short form -> long-form text (see module docs).

    doc (Doc): The document.
    ents (List[Span]): Its entities to link, in order.
    RETURNS (Dict[str, str]): The first long form of each short form, entity pairs first.
    """
    found = _entity_pairs(ents)
    if ABBREVIATIONS_KEY in doc.user_data:
        pairs = abbreviation_pairs(doc)
    else:
        pairs = [(a.short, a.long) for a in detect(doc)]
    for short, long in pairs:
        found.setdefault(normalize(short.text), long.text)
    return found
