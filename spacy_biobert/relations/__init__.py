"""Relations between entities: the typed items and the relation extractor.

- ``items``: :class:`Relation` / :class:`EntityRelation`, the one stored form;
- ``candidates``: ``spacy-biobert.entity_pair_candidates.v1`` (typed, capped pairs);
- ``architectures``: ``spacy-biobert.RelationModel.v1``, ``.v2`` (context, document
  features, the default) and ``.v3`` (v2 + pair-specific attention over the document);
- ``component``: the ``biobert_relation_extractor`` factory;
- ``scorer``: ``spacy-biobert.relation_scorer.v1`` (document-level CID P/R/F1);
- ``evaluation`` / ``cli``: ``evaluate-relations`` and ``cv``.

Only ``items`` is imported here (the extensions need it while the package loads);
spaCy reaches the others through entry points.
"""
from .items import EntityRelation, Relation, entity_key

__all__ = ["EntityRelation", "Relation", "entity_key"]
