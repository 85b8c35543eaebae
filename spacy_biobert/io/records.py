"""What flows through ``annotate``: input records, per-document results, model info.

Results are plain dicts (JSON-serializable), built from the ``Doc`` in the process
that ran the pipeline, so that worker processes and Ray actors send back small,
picklable rows instead of ``Doc`` objects, and every sink writes the same fields.
"""
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from spacy.tokens import Doc, Span

#: One annotated document: ``id``, ``text``, ``n_words``, ``entities`` (each with
#: ``kb_id``, ``kb_ids``, ``kb_name``, ``kb_score`` when linked), ``relations``.
DocResult = Dict[str, Any]


class AnnotateError(ValueError):
    """Bad input or an unusable source/sink, with a message naming where."""


@dataclass(frozen=True)
class Record:
    """One input document.

    id (str): The document id (PMID, file name, row key).
    text (Optional[str]): Its text; ``None`` when the row has none.
    where (str): Where it came from (``file:line``, table row), for messages.
    problem (Optional[str]): Why it cannot be annotated (bad bytes, malformed
        line); the runner counts it as skipped with this reason.
    """

    id: str
    text: Optional[str]
    where: str = ""
    problem: Optional[str] = None


@dataclass(frozen=True)
class ModelInfo:
    """Name and version of the pipeline, stored with every output row."""

    name: str
    version: str


def _link(ent: Span) -> Dict[str, Any]:
    """``kb_name`` (the concept's preferred name) and ``kb_score`` (the entity linker's
    score of the chosen id) of a linked entity; None for both otherwise."""
    if not ent.kb_id_ or not ent.has_extension("kb_name"):
        return {"kb_name": None, "kb_score": None}
    candidates = ent._.kb_candidates if ent.has_extension("kb_candidates") else []
    return {"kb_name": ent._.kb_name, "kb_score": candidates[0][1] if candidates else None}


def doc_to_result(doc: Doc, doc_id: str) -> DocResult:
    """Entities (``doc.ents``) and relations of an annotated ``Doc`` as plain data.

    doc (Doc): The annotated document.
    doc_id (str): Its id.
    RETURNS (DocResult): The row data every sink writes.
    """
    entities: List[Dict[str, Any]] = []
    for ent in doc.ents:
        kb_ids = list(ent._.kb_ids) if ent.has_extension("kb_ids") else []
        entities.append({
            "start": ent.start_char,
            "end": ent.end_char,
            "text": ent.text,
            "label": ent.label_,
            "kb_id": ent.kb_id_ or None,
            "kb_ids": kb_ids,
            **_link(ent),
            # spaCy's transition-based NER gives no per-entity confidence.
            "score": None,
        })
    relations: List[Dict[str, Any]] = []
    if doc.has_extension("relations"):
        for rel in doc._.relations:
            relations.append({
                "kind": "mention", "label": rel.label, "score": float(rel.score),
                "head_id": rel.head.kb_id_ or None, "tail_id": rel.tail.kb_id_ or None,
                "head_start": rel.head.start_char, "head_end": rel.head.end_char,
                "tail_start": rel.tail.start_char, "tail_end": rel.tail.end_char,
                "head_label": rel.head.label_, "tail_label": rel.tail.label_,
                "n_mentions": 1,
            })
    if doc.has_extension("entity_relations"):
        for erel in doc._.entity_relations:
            relations.append({
                "kind": "entity", "label": erel.label, "score": float(erel.score),
                "head_id": erel.head_id, "tail_id": erel.tail_id,
                "head_start": None, "head_end": None, "tail_start": None, "tail_end": None,
                "head_label": erel.mentions[0][0].label_ if erel.mentions else None,
                "tail_label": erel.mentions[0][1].label_ if erel.mentions else None,
                "n_mentions": len(erel.mentions),
            })
    return {
        "id": doc_id,
        "text": doc.text,
        "n_words": sum(1 for token in doc if not token.is_space),
        "entities": entities,
        "relations": relations,
    }
