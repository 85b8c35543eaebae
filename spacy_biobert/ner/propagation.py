"""One sense per document: tag the other occurrences of a recognized entity.

An abstract names "wheat" eight times; the NER heads, deciding token by token, may
tag it in the title and miss it in the methods. ``biobert_entity_propagator`` runs
after the heads and, for each entity text they found in a document, tags every other
occurrence of the same token sequence in that document with the same label (and
``kb_id_``, when all its mentions agree on one).

Rules, all conservative:

- only entity texts of at least ``min_length`` characters (``"S ."`` is not a name);
- a text the heads gave two labels in one document is ambiguous and left alone;
- an occurrence that overlaps an entity already in ``doc.ents`` is left alone (the
  heads' decisions are never changed, only gaps filled); of overlapping occurrences
  the longest wins;
- matching is on tokens (``ORTH``, or ``LOWER`` with ``case_sensitive = false``),
  so a match always lies on token boundaries.

No weights: ``spacy train`` runs it when it scores the dev set, never in updates.
Measured (docs/benchmarks.md, "Entity propagation"): LINNAEUS dev, the 900-step
species-only model, strict F1 93.37 -> 94.60.
"""
from typing import Dict, List, Optional, Set, Tuple

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans


class EntityPropagator:
    """Tag other occurrences of each entity text in the same document."""

    #: ``labels`` selects what is propagated (None = all), it adds no label of its own:
    #: kept out of ``nlp.meta["labels"]``, which could not list None.
    hide_labels = True

    def __init__(
        self,
        nlp: Language,
        name: str = "entity_propagator",
        *,
        labels: Optional[List[str]] = None,
        min_length: int = 3,
        case_sensitive: bool = True,
    ) -> None:
        """labels: labels to propagate (None = all); min_length: shortest entity
        text (characters) that is propagated; case_sensitive: match ``ORTH`` (True)
        or ``LOWER``."""
        if min_length < 1:
            raise ValueError(f"[{name}] min_length must be at least 1, got {min_length}")
        self.vocab = nlp.vocab
        self.name = name
        self.labels = set(labels) if labels is not None else None
        self.min_length = min_length
        self.case_sensitive = case_sensitive
        self.attr = "ORTH" if case_sensitive else "LOWER"

    def _key(self, span: Span) -> str:
        return span.text if self.case_sensitive else span.text.lower()

    def propagated(self, doc: Doc) -> List[Span]:
        """The new entities ``__call__`` would add to ``doc`` (none of ``doc.ents``)."""
        sources: Dict[str, List[Span]] = {}
        # Every label a text got in this document, propagated or not.
        labels_of: Dict[str, Set[str]] = {}
        for ent in doc.ents:
            if len(ent.text) < self.min_length:
                continue
            key = self._key(ent)
            labels_of.setdefault(key, set()).add(ent.label_)
            if self.labels is None or ent.label_ in self.labels:
                sources.setdefault(key, []).append(ent)
        forms: Dict[str, Tuple[str, str, Span]] = {}
        for key, ents in sources.items():
            if len(labels_of[key]) > 1:
                continue  # ambiguous in this document
            kb_ids = {e.kb_id_ for e in ents}
            forms[key] = (ents[0].label_, kb_ids.pop() if len(kb_ids) == 1 else "", ents[0])
        if not forms:
            return []
        matcher = PhraseMatcher(self.vocab, attr=self.attr)
        for key, (_, _, example) in forms.items():
            matcher.add(key, [example.as_doc()])
        taken: Set[int] = {i for e in doc.ents for i in range(e.start, e.end)}
        found = []
        for match_id, start, end in matcher(doc):
            if any(i in taken for i in range(start, end)):
                continue
            label, kb_id, _ = forms[self.vocab.strings[match_id]]
            found.append(Span(doc, start, end, label=label, kb_id=kb_id))
        return filter_spans(found)

    def __call__(self, doc: Doc) -> Doc:
        new = self.propagated(doc)
        if new:
            doc.set_ents(new, default="unmodified")
        return doc


@Language.factory(
    "biobert_entity_propagator",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={"labels": None, "min_length": 3, "case_sensitive": True},
)
def make_entity_propagator(
    nlp: Language,
    name: str,
    labels: Optional[List[str]],
    min_length: int,
    case_sensitive: bool,
) -> EntityPropagator:
    """Factory of the entity propagator (see module docs)."""
    return EntityPropagator(
        nlp, name, labels=labels, min_length=min_length, case_sensitive=case_sensitive
    )
