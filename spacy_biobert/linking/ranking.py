"""Ranking a mention's candidates: string similarity plus the training prior.

``score = similarity + prior_weight * P(ids | alias)``, where similarity is 1 for an
exact normalized alias and the n-gram cosine otherwise, and ``P(ids | alias)`` is the
share of the alias's training mentions annotated with those ids (0 for an alias
never seen in training).
"""
from typing import Dict, List, Tuple

from .kb import LinkingKB
from .normalize import singular

Ranked = List[Tuple[str, float]]


def _add(scores: Dict[str, float], ids: str, value: float) -> None:
    if value > scores.get(ids, float("-inf")):
        scores[ids] = value


def _score_alias(kb: LinkingKB, label: str, key: str, similarity: float,
                 prior_weight: float, scores: Dict[str, float]) -> bool:
    """Score the concepts of one alias key; True when it had any."""
    prior = kb.prior_for(label, key)
    total = sum(prior.values())
    for ids, count in prior.items():
        _add(scores, ids, similarity + prior_weight * count / total)
    concepts = kb.concepts_for(label, key)
    for cid in concepts:
        _add(scores, cid, similarity)
    return bool(prior or concepts)


def rank(kb: LinkingKB, label: str, key: str, *, prior_weight: float = 0.5,
         ngram_k: int = 10, min_similarity: float = 0.0) -> Ranked:
    """Ranked ``(ids, score)`` for a normalized mention key, best first.

    kb (LinkingKB): The knowledge base.
    label (str): Entity label (CHEMICAL, DISEASE).
    key (str): The normalized mention (see :func:`~.normalize.normalize`).
    prior_weight (float): Weight of the training prior.
    ngram_k (int): Nearest aliases taken when no alias matches exactly.
    min_similarity (float): N-gram neighbours below this similarity are dropped.
    """
    scores: Dict[str, float] = {}
    if not key:
        return []
    exact = False
    for variant in dict.fromkeys((key, singular(key))):
        exact = _score_alias(kb, label, variant, 1.0, prior_weight, scores) or exact
    if not exact and label in kb.ngrams:
        for alias, similarity in kb.ngrams[label].nearest(key, ngram_k):
            if similarity >= min_similarity:
                _score_alias(kb, label, alias, similarity, prior_weight, scores)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
