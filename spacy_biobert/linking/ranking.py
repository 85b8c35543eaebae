"""Ranking a mention's candidates: string similarity plus the training prior.

``score = similarity + prior_weight * P(ids | alias) + name_weight * [vocabulary
name]``, where similarity is 1 for an exact normalized alias (0.99 for one equal to
the mention's singular or American spelling or to the mention with its codes joined,
``pge 2`` as ``pge2``), 0.95 for an alias with the same words up
to order, stems and generic heads (or without salt words, as the other name of an acid
or its anion, or, for a disease ending in a vague head, as the organ's disease:
:func:`~.normalize.organ_disease`, or for a carcinoma named by its site, as the site's
neoplasms: :func:`~.normalize.site_neoplasm`), and the
n-gram cosine otherwise (which then also scales the two weights), ``P(ids | alias)``
is the share of the alias's training mentions annotated with those ids (0 for an
alias never seen in training), and the last term rewards a
concept whose own vocabulary names include the alias: training annotations of one
surface form disagree across corpora, and the vocabulary breaks the tie. A concept
whose preferred name has the mention's words gets a small bonus on top.
"""
from typing import Dict, List, Tuple

from ..labels import CHEMICAL, DISEASE
from .kb import LinkingKB
from .normalize import (
    acid_form,
    american,
    joined_code,
    organ_disease,
    singular_noun,
    site_neoplasm,
    token_key,
    without_salt,
)

#: Similarity of an alias reached by word order, stems or salt words, not the text.
TOKEN_SIMILARITY = 0.95
#: Similarity of an alias equal to the mention's singular or American spelling: just
#: below the mention's own text, so that of "phenothiazines" (the class) and
#: "phenothiazine" (the compound) the text itself wins.
VARIANT_SIMILARITY = 0.99
#: Bonus of a concept whose preferred name has the mention's token key: of the
#: concepts an alias names, the one the alias describes best ("autosomal dominant
#: myotonia congenita" is the OMIM entry of that name, not the umbrella descriptor).
PREFERRED_NAME_BONUS = 0.05

Ranked = List[Tuple[str, float]]


def _add(scores: Dict[str, float], ids: str, value: float) -> None:
    if value > scores.get(ids, float("-inf")):
        scores[ids] = value


def _score_alias(kb: LinkingKB, label: str, key: str, similarity: float,
                 weights: Tuple[float, float], scores: Dict[str, float]) -> bool:
    """Score the concepts of one alias key; True when it had any. The prior and the
    name bonus of an inexact alias (an n-gram neighbour) count in proportion to its
    similarity, so a far neighbour seen in training does not beat a near one."""
    prior_weight, name_weight = weights
    if similarity < TOKEN_SIMILARITY:
        prior_weight, name_weight = prior_weight * similarity, name_weight * similarity
    prior = kb.prior_for(label, key)
    total = sum(prior.values())
    concepts = kb.concepts_for(label, key)
    for ids, count in prior.items():
        named = name_weight if ids in concepts else 0.0
        _add(scores, ids, similarity + prior_weight * count / total + named)
    for cid in concepts:
        _add(scores, cid, similarity + name_weight)
    return bool(prior or concepts)


def _score_reduced(kb: LinkingKB, label: str, key: str, weights: Tuple[float, float],
                   scores: Dict[str, float]) -> bool:
    """Score the aliases equal to ``key`` up to word order, stems and generic heads
    (:func:`~.normalize.token_key`), to ``key`` without its salt words or, for
    chemicals, in its other acid form; for diseases with none of these, as the organ's
    disease (:func:`~.normalize.organ_disease`) or the site's neoplasms
    (:func:`~.normalize.site_neoplasm`)."""
    aliases = list(kb.token_aliases(label, key))
    bare = without_salt(key)
    if bare != key:
        aliases.append(bare)
    acid = acid_form(key) if label == CHEMICAL else ""
    if acid:
        aliases.append(acid)
    found = _score_tokens(kb, label, aliases, weights, scores)
    if found or label != DISEASE:
        return found
    for reduce in (organ_disease, site_neoplasm):
        other = reduce(key)
        if other and _score_tokens(kb, label, [other, *kb.token_aliases(label, other)],
                                   weights, scores):
            return True
    return False


def _score_tokens(kb: LinkingKB, label: str, aliases: List[str],
                  weights: Tuple[float, float], scores: Dict[str, float]) -> bool:
    """Score alias keys at :data:`TOKEN_SIMILARITY`; True when any had concepts."""
    found = False
    for alias in aliases:
        found = _score_alias(kb, label, alias, TOKEN_SIMILARITY, weights, scores) or found
    return found


def _variants(key: str) -> List[str]:
    """The mention key, then its singular and American spellings and its codes joined
    (no repeats)."""
    return list(dict.fromkeys((key, singular_noun(key), american(key), joined_code(key))))


def has_alias(kb: LinkingKB, label: str, key: str) -> bool:
    """Whether a normalized key (or its plural/spelling variants) is an exact alias."""
    return any(kb.prior_for(label, v) or kb.concepts_for(label, v) for v in _variants(key))


def rank(kb: LinkingKB, label: str, key: str, *, prior_weight: float = 0.5,
         name_weight: float = 0.2, ngram_k: int = 10, min_similarity: float = 0.0) -> Ranked:
    """Ranked ``(ids, score)`` for a normalized mention key, best first.

    kb (LinkingKB): The knowledge base.
    label (str): Entity label (CHEMICAL, DISEASE).
    key (str): The normalized mention (see :func:`~.normalize.normalize`).
    prior_weight (float): Weight of the training prior.
    name_weight (float): Bonus of a concept whose vocabulary names include the alias.
    ngram_k (int): Nearest aliases taken when no alias matches exactly.
    min_similarity (float): N-gram neighbours below this similarity are dropped.
    """
    scores: Dict[str, float] = {}
    weights = (prior_weight, name_weight)
    if not key:
        return []
    exact = False
    for variant in _variants(key):
        similarity = 1.0 if variant == key else VARIANT_SIMILARITY
        exact = _score_alias(kb, label, variant, similarity, weights, scores) or exact
    if not exact:
        exact = _score_reduced(kb, label, key, weights, scores)
    if not exact and label in kb.ngrams:
        for alias, similarity in kb.ngrams[label].nearest(key, ngram_k):
            if similarity >= min_similarity:
                _score_alias(kb, label, alias, similarity, weights, scores)
    _prefer_named(kb, key, scores)
    return sorted(scores.items(), key=lambda item: order(item, label))


def _prefer_named(kb: LinkingKB, key: str, scores: Dict[str, float]) -> None:
    """Add :data:`PREFERRED_NAME_BONUS` to single concepts whose preferred name has the
    token key of ``key``."""
    wanted = token_key(key)
    for ids in scores:
        if "|" not in ids and kb.name_key(ids) == wanted:
            scores[ids] += PREFERRED_NAME_BONUS


def order(item: Tuple[str, float], label: str = "") -> Tuple[float, int, str]:
    """Sort key of a candidate: best score first. On a tie, MeSH before OMIM, and for
    diseases descriptors before supplementary concepts (MEDIC's supplementary diseases
    are rare syndromes named like the descriptor that covers them)."""
    ids, score = item
    if ids.startswith("MESH:D"):
        kind = 0
    elif ids.startswith("MESH:"):
        kind = 1 if label == DISEASE else 0
    else:
        kind = 2
    return (-round(score, 6), kind, ids)
