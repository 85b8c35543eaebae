"""How abbreviations are kept on a Doc: character offsets in ``doc.user_data``.

``doc.user_data["spacy_biobert.abbreviations"]`` holds one ``[short_start, short_end,
long_start, long_end]`` list per short form (definitions and later uses), so it survives
``DocBin(store_user_data=True)`` and ``Doc.to_disk``. ``doc._.abbreviations`` and
``span._.long_form`` read it through getters; when another package (scispacy's
``AbbreviationDetector``) registered those names first, the detector also sets them its
way, and :func:`abbreviation_pairs` still reads the stored offsets.
"""
from typing import List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span

ABBREVIATIONS_KEY = "spacy_biobert.abbreviations"


def _entries(doc: Doc) -> List[List[int]]:
    return list(doc.user_data.get(ABBREVIATIONS_KEY, []))


def abbreviation_pairs(doc: Doc) -> List[Tuple[Span, Span]]:
    """(short form, long form) Spans stored on ``doc``, in document order."""
    out = []
    for s_start, s_end, l_start, l_end in _entries(doc):
        short = doc.char_span(s_start, s_end)
        long = doc.char_span(l_start, l_end)
        if short is not None and long is not None:
            out.append((short, long))
    return out


def store_abbreviations(doc: Doc, pairs: Sequence[Tuple[Span, Span]]) -> None:
    """Replace the abbreviations stored on ``doc``."""
    doc.user_data[ABBREVIATIONS_KEY] = [
        [short.start_char, short.end_char, long.start_char, long.end_char]
        for short, long in pairs
    ]


def get_abbreviations(doc: Doc) -> List[Span]:
    """Getter of ``doc._.abbreviations``: the short forms, definitions and later uses."""
    return [short for short, _ in abbreviation_pairs(doc)]


def get_long_form(span: Span) -> Optional[Span]:
    """Getter of ``span._.long_form``: the long form of a short form, else None."""
    for s_start, s_end, l_start, l_end in _entries(span.doc):
        if s_start == span.start_char and s_end == span.end_char:
            return span.doc.char_span(l_start, l_end)
    return None


def ours(owner: type, name: str) -> bool:
    """Whether ``owner._.name`` is registered with our getter."""
    if not owner.has_extension(name):  # type: ignore[attr-defined]
        return False
    getter = owner.get_extension(name)[2]  # type: ignore[attr-defined]
    return getter in (get_abbreviations, get_long_form)


def set_foreign_extensions(doc: Doc, pairs: Sequence[Tuple[Span, Span]]) -> None:
    """Fill ``doc._.abbreviations`` / ``span._.long_form`` registered by another package
    (default-valued, as scispacy registers them)."""
    if Doc.has_extension("abbreviations") and not ours(Doc, "abbreviations"):
        doc._.abbreviations = [short for short, _ in pairs]
    if Span.has_extension("long_form") and not ours(Span, "long_form"):
        for short, long in pairs:
            short._.long_form = long
