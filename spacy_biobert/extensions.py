"""Custom attributes that spacy-biobert adds to ``Doc`` and ``Span``.

| attribute               | type                        | stored in ``user_data`` as            |
|-------------------------|-----------------------------|---------------------------------------|
| ``doc._.doc_id``        | ``Optional[str]``           | extension default (PMID, file name)   |
| ``doc._.corpus``        | ``Optional[str]``           | extension default (e.g. "bc5cdr")     |
| ``doc._.annotated_labels`` | ``Optional[tuple]``     | labels the corpus annotates fully     |
| ``doc._.relations``     | ``List[Relation]``          | ``spacy_biobert.relations``           |
| ``doc._.entity_relations`` | ``List[EntityRelation]`` | ``spacy_biobert.entity_relations``   |
| ``span._.kb_ids``       | ``Tuple[str, ...]``         | ``spacy_biobert.kb_ids`` (all ids)    |
| ``span._.kb_candidates`` | ``List[Tuple[str, float]]`` | ``spacy_biobert.kb_candidates`` (top k) |
| ``span._.kb_name``      | ``Optional[str]``           | ``spacy_biobert.kb_names`` (preferred) |
| ``doc._.abbreviations`` | ``List[Span]`` (short forms) | ``spacy_biobert.abbreviations``      |
| ``span._.long_form``    | ``Optional[Span]``          | ``spacy_biobert.abbreviations``       |

``abbreviations`` and ``long_form`` have scispacy's names: when scispacy registered them
first, they are left as they are (see :mod:`spacy_biobert.abbreviations.storage`).

All survive ``DocBin(store_user_data=True)`` and ``to_disk``/``from_disk``.
"""
from typing import Any, List, Optional, Tuple

from spacy.tokens import Doc, Span

from .abbreviations.storage import get_abbreviations, get_long_form
from .relations.items import (
    get_entity_relations,
    get_relations,
    set_entity_relations,
    set_relations,
)

KB_IDS_KEY = "spacy_biobert.kb_ids"
KB_CANDIDATES_KEY = "spacy_biobert.kb_candidates"
KB_NAMES_KEY = "spacy_biobert.kb_names"


def _key(span: Span) -> str:
    return f"{span.start_char}:{span.end_char}:{span.label_}"


def _stored(span: Span, key: str) -> Any:
    """What ``doc.user_data[key]`` holds for this span (None if nothing)."""
    stored = span.doc.user_data.get(key, {})
    return stored.get(_key(span)) if stored else None


def _store(span: Span, key: str, value: Any) -> None:
    stored = dict(span.doc.user_data.get(key, {}))
    stored[_key(span)] = value
    span.doc.user_data[key] = stored


def get_kb_ids(span: Span) -> Tuple[str, ...]:
    """All normalized ids of a mention; ``(kb_id_,)`` when only one was given."""
    ids = _stored(span, KB_IDS_KEY)
    if ids:
        return tuple(ids)
    return (span.kb_id_,) if span.kb_id_ else ()


def set_kb_ids(span: Span, ids: Tuple[str, ...]) -> None:
    """Store all ids of a mention (the first one also belongs in ``kb_id_``)."""
    _store(span, KB_IDS_KEY, tuple(ids))


def get_kb_candidates(span: Span) -> List[Tuple[str, float]]:
    """The entity linker's ranked candidates of a mention, best first (empty if none)."""
    return [(str(c), float(s)) for c, s in _stored(span, KB_CANDIDATES_KEY) or ()]


def set_kb_candidates(span: Span, candidates: List[Tuple[str, float]]) -> None:
    """Store ranked ``(ids, score)`` candidates of a mention in ``doc.user_data``."""
    _store(span, KB_CANDIDATES_KEY, [(str(c), float(s)) for c, s in candidates])


def get_kb_name(span: Span) -> Optional[str]:
    """The preferred name of the mention's concept (``kb_id_``), as the linker's KB has it."""
    name = _stored(span, KB_NAMES_KEY)
    return str(name) if name else None


def set_kb_name(span: Span, name: Optional[str]) -> None:
    """Store the preferred name of the mention's concept."""
    _store(span, KB_NAMES_KEY, name)


def install_extensions() -> None:
    """Register the attributes above; safe to call many times."""
    for name in ("doc_id", "corpus", "annotated_labels"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    if not Doc.has_extension("relations"):
        Doc.set_extension("relations", getter=get_relations, setter=set_relations)
    if not Doc.has_extension("entity_relations"):
        Doc.set_extension(
            "entity_relations", getter=get_entity_relations, setter=set_entity_relations
        )
    if not Span.has_extension("kb_ids"):
        Span.set_extension("kb_ids", getter=get_kb_ids, setter=set_kb_ids)
    if not Span.has_extension("kb_candidates"):
        Span.set_extension("kb_candidates", getter=get_kb_candidates, setter=set_kb_candidates)
    if not Span.has_extension("kb_name"):
        Span.set_extension("kb_name", getter=get_kb_name, setter=set_kb_name)
    if not Doc.has_extension("abbreviations"):
        Doc.set_extension("abbreviations", getter=get_abbreviations)
    if not Span.has_extension("long_form"):
        Span.set_extension("long_form", getter=get_long_form)
