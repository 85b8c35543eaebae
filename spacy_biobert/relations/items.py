"""The one typed form of relations, shared by gold data and predictions.

Relations live in ``doc.user_data`` as plain tuples of token offsets, labels, ids
and scores, so they survive ``DocBin(store_user_data=True)``, ``Doc.to_bytes`` and
``to_disk``/``from_disk``. The ``doc._.relations`` and ``doc._.entity_relations``
extensions turn them into the typed items below and back.

- :class:`Relation` is a mention pair: ``head`` and ``tail`` are ``Span`` objects.
- :class:`EntityRelation` is an entity pair: ``head_id``/``tail_id`` are entity keys
  (the mention's ``kb_id_``, e.g. a MeSH ID, or ``text:<lower-cased text>`` when the
  mention has none), with the mention pairs that support it.

Gold relations (e.g. BC5CDR ``CID`` rows) are entity pairs with score 1.0; the
relation component predicts both levels, with a score for every candidate.
"""
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span

RELATIONS_KEY = "spacy_biobert.relations"
ENTITY_RELATIONS_KEY = "spacy_biobert.entity_relations"

#: (start, end, label) token offsets of a span, as stored.
SpanKey = Tuple[int, int, str]


class Relation(NamedTuple):
    """A relation between two entity mentions of one document."""

    head: Span
    tail: Span
    label: str
    score: float = 1.0


class EntityRelation(NamedTuple):
    """A relation between two entities (all mentions of an ID) of one document."""

    head_id: str
    tail_id: str
    label: str
    score: float = 1.0
    mentions: Tuple[Tuple[Span, Span], ...] = ()


#: Prefix of the key of an entity without ids (:func:`text_key`).
TEXT_PREFIX = "text:"


def text_key(span: Span) -> str:
    """The entity key of a mention without ids: ``text:`` + its lower-cased text,
    whitespace collapsed."""
    return TEXT_PREFIX + " ".join(span.text.lower().split())


def entity_key(span: Span) -> str:
    """The key that groups mentions into entities: kb_id_, else normalized text."""
    if span.kb_id_:
        return span.kb_id_
    return text_key(span)


def _span_key(span: Span) -> SpanKey:
    return (span.start, span.end, span.label_)


def _make_span(doc: Doc, key: Sequence) -> Span:
    start, end, label = int(key[0]), int(key[1]), str(key[2])
    for ent in doc.ents:
        if ent.start == start and ent.end == end and ent.label_ == label:
            return ent
    if "mentions" in doc.spans:
        for span in doc.spans["mentions"]:
            if span.start == start and span.end == end and span.label_ == label:
                return span
    return Span(doc, start, end, label=label)


def _check_span(doc: Doc, span: Span) -> None:
    if span.doc is not doc:
        raise ValueError(
            f"Relation span '{span.text}' belongs to another Doc; relations must point "
            "into the Doc they are stored on."
        )


def get_relations(doc: Doc) -> List[Relation]:
    """Getter of ``doc._.relations``."""
    rows = doc.user_data.get(RELATIONS_KEY, ())
    return [
        Relation(_make_span(doc, head), _make_span(doc, tail), str(label), float(score))
        for head, tail, label, score in rows
    ]


def set_relations(doc: Doc, relations: Iterable[Relation]) -> None:
    """Setter of ``doc._.relations``: validates and stores as plain tuples."""
    rows = []
    for rel in relations:
        rel = Relation(*rel)
        _check_span(doc, rel.head)
        _check_span(doc, rel.tail)
        rows.append((_span_key(rel.head), _span_key(rel.tail), rel.label, float(rel.score)))
    doc.user_data[RELATIONS_KEY] = tuple(rows)


def get_entity_relations(doc: Doc) -> List[EntityRelation]:
    """Getter of ``doc._.entity_relations``."""
    rows = doc.user_data.get(ENTITY_RELATIONS_KEY, ())
    out = []
    for head_id, tail_id, label, score, pairs in rows:
        mentions = tuple((_make_span(doc, h), _make_span(doc, t)) for h, t in pairs)
        out.append(EntityRelation(str(head_id), str(tail_id), str(label), float(score), mentions))
    return out


def set_entity_relations(doc: Doc, relations: Iterable[EntityRelation]) -> None:
    """Setter of ``doc._.entity_relations``: validates and stores as plain tuples."""
    rows = []
    for rel in relations:
        rel = EntityRelation(*rel)
        pairs = []
        for head, tail in rel.mentions:
            _check_span(doc, head)
            _check_span(doc, tail)
            pairs.append((_span_key(head), _span_key(tail)))
        rows.append((rel.head_id, rel.tail_id, rel.label, float(rel.score), tuple(pairs)))
    doc.user_data[ENTITY_RELATIONS_KEY] = tuple(rows)


def supporting_mentions(
    doc: Doc, head_id: str, tail_id: str, spans: Optional[Iterable[Span]] = None
) -> Tuple[Tuple[Span, Span], ...]:
    """All (head mention, tail mention) pairs whose entity ids match the pair.

    A mention matches an id through ``span._.kb_ids`` (all ids of a composite
    mention), falling back to :func:`entity_key`.
    """
    spans = list(doc.ents if spans is None else spans)

    def ids(span: Span) -> Tuple[str, ...]:
        kb_ids = tuple(span._.kb_ids) if Span.has_extension("kb_ids") else ()
        return kb_ids or (entity_key(span),)

    heads = [s for s in spans if head_id in ids(s)]
    tails = [s for s in spans if tail_id in ids(s)]
    return tuple((h, t) for h in heads for t in tails if h != t)


def score_ranks(relations: Sequence[EntityRelation]) -> List[int]:
    """Rank of each relation's score among the relations with its label (0: best;
    ties in input order)."""
    ranks = [0] * len(relations)
    for label in {rel.label for rel in relations}:
        ranked = sorted((i for i, rel in enumerate(relations) if rel.label == label),
                        key=lambda i: -relations[i].score)
        for rank, i in enumerate(ranked):
            ranks[i] = rank
    return ranks


def select_entity_relations(
    relations: Iterable[EntityRelation], threshold: float, min_per_doc: int = 0
) -> List[EntityRelation]:
    """The entity relations a document reports: those scored at least ``threshold``,
    and for each label at least the ``min_per_doc`` best-scored ones (in input order).
    """
    relations = list(relations)
    ranks = score_ranks(relations)
    return [rel for rel, rank in zip(relations, ranks)
            if rel.score >= threshold or rank < min_per_doc]
