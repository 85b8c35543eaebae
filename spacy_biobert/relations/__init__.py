"""Relations between entities: typed items (and, later, the relation extractor)."""
from .items import EntityRelation, Relation, entity_key

__all__ = ["EntityRelation", "Relation", "entity_key"]
