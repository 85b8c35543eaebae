"""NER beyond spaCy's own ``ner``: heads that learn from partially annotated corpora."""
from .architectures import listener_with_token_features
from .component import CorpusAwareEntityRecognizer, make_ner_head
from .dictionary import SpeciesDictionary, make_species_dictionary
from .propagation import EntityPropagator, make_entity_propagator
from .scorer import make_partial_ner_scorer, score_partial_ner

__all__ = [
    "CorpusAwareEntityRecognizer",
    "EntityPropagator",
    "SpeciesDictionary",
    "listener_with_token_features",
    "make_entity_propagator",
    "make_ner_head",
    "make_partial_ner_scorer",
    "make_species_dictionary",
    "score_partial_ner",
]
