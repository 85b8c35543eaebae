"""Short forms defined between entities: ``cyclophosphamide (CP)`` in one document.

A fallback for documents the abbreviation detector has not seen (no
``span._.long_form``): an entity directly followed by ``(`` + an entity of the same
label + ``)`` defines the inner one as a short form of the outer one when the short
form's letters occur in order in the long form and its first letter starts a word of
it (the test of Schwartz & Hearst 2003, on entity pairs only).
"""
from typing import Dict, List

from spacy.tokens import Span

from .normalize import normalize


def _is_short_form(short: str, long: str) -> bool:
    letters = [c for c in short.lower() if c.isalnum()]
    if not letters or len(short) >= len(long) or " " in short.strip():
        return False
    words = long.lower().replace("-", " ").split()
    if not any(w.startswith(letters[0]) for w in words):
        return False
    pos = 0
    text = long.lower()
    for ch in letters:
        pos = text.find(ch, pos)
        if pos < 0:
            return False
        pos += 1
    return True


def defined_short_forms(ents: List[Span]) -> Dict[str, str]:
    """Normalized short form -> long-form text, for ``LONG (SHORT)`` entity pairs.

    ents (List[Span]): A document's entities in order.
    RETURNS (Dict[str, str]): The first definition of each short form.
    """
    found: Dict[str, str] = {}
    doc_text = ents[0].doc.text if ents else ""
    for long, short in zip(ents, ents[1:]):
        if long.label_ != short.label_:
            continue
        between = doc_text[long.end_char:short.start_char]
        after = doc_text[short.end_char:short.end_char + 1]
        if between.strip() != "(" or after not in (")", ";", ","):
            continue
        if _is_short_form(short.text, long.text):
            found.setdefault(normalize(short.text), long.text)
    return found
