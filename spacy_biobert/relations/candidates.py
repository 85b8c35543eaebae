"""Candidate entity pairs for relation extraction, over whole documents.

A candidate is an *ordered* pair of mentions (head, tail) whose labels match one
of the configured type constraints (for BC5CDR's CID: ``CHEMICAL -> DISEASE``).
Candidates are taken over the whole document, not per sentence: about a third of
CID relations are never stated inside one sentence.

Each mention belongs to one or more *entities*: its normalized ids
(``span._.kb_ids``; ``"-1"``/empty ids are ignored, composite ``"D1|D2"`` counts
for each id), or, when it has none, its normalized text (``text:<lower-cased>``).

The number of pairs per document is capped (``max_pairs``): when a document has
more, the pairs whose mentions are closest (in tokens) are kept, and the number of
dropped pairs is recorded on :class:`Candidates` (and counted by the component).
"""
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span
from spacy.util import registry

from .items import text_key

#: Ids that mean "no normalized id" in the corpora (PubTator writes -1).
NO_ID = {"", "-1", "-"}

#: Token-gap buckets of a pair: 0-4, 5-9, 10-19, 20-49, 50-99, 100+ tokens apart.
#: (Token gaps, not sentence distances: Docs made from raw text by a pipeline
#: without a sentence splitter have no sentences, and training must see the same.)
GAP_BUCKETS = (0, 5, 10, 20, 50, 100)
#: Distance features of a pair: gap bucket x (head before tail, head after tail).
N_DISTANCE_FEATURES = 2 * len(GAP_BUCKETS)

#: Document-level features of a pair (see :func:`pair_features`).
PAIR_FEATURES = (
    "same_sentence",          # this mention pair shares a sentence
    "entities_share_sentence",  # some mentions of the two entities share a sentence
    "head_in_title",          # the head entity is named in the first sentence (title)
    "tail_in_title",
    "head_mentions",          # log(1 + mentions of the head entity) / 3
    "tail_mentions",
    "head_most_frequent",     # no other entity of the head's label is named more often
    "tail_most_frequent",
    "entity_sentence_gap",    # fewest sentences between their mentions, /5, at most 1
    "mention_sentence_gap",   # sentences between this mention pair, /5, at most 1
    "head_first_position",    # first mention of the head entity, relative to the doc
    "tail_first_position",
)
N_PAIR_FEATURES = len(PAIR_FEATURES)
#: Sentence-final tokens for :func:`sentence_ids`.
SENTENCE_END = {".", "?", "!"}
#: Context of a mention pair: the tokens between them, when in one sentence and at
#: most this many tokens apart (else no context vector).
MAX_CONTEXT_GAP = 60


def mention_ids(span: Span) -> Tuple[str, ...]:
    """The entity keys of a mention: its normalized ids, else its normalized text."""
    raw: List[str] = []
    if Span.has_extension("kb_ids"):
        raw.extend(span._.kb_ids)
    if span.kb_id_:
        raw.append(span.kb_id_)
    ids: List[str] = []
    for value in raw:
        for part in str(value).replace("+", "|").split("|"):
            part = part.strip()
            if part not in NO_ID and part not in ids:
                ids.append(part)
    if ids:
        return tuple(ids)
    return (text_key(span),)


def distance_feature(head: Span, tail: Span) -> int:
    """Index of a pair's distance feature (see :data:`N_DISTANCE_FEATURES`)."""
    gap = _gap(head, tail)
    bucket = 0
    for i, low in enumerate(GAP_BUCKETS):
        if gap >= low:
            bucket = i
    return 2 * bucket + (0 if head.start <= tail.start else 1)


def sentence_ids(doc: Doc) -> List[int]:
    """Sentence index of each token, by a fixed rule: a sentence ends at ``.``/``?``/
    ``!`` followed by a token that starts with a capital, a digit or a bracket, or
    at a line break.

    The same rule for gold and predicted documents (a pipeline may have no sentence
    splitter, and training must see what inference sees); for PubMed abstracts the
    first sentence is the title.
    """
    ids: List[int] = []
    current = 0
    for i, token in enumerate(doc):
        if i > 0:
            prev = doc[i - 1]
            first = token.text[:1]
            if (prev.text in SENTENCE_END and (first.isupper() or first.isdigit()
                                               or first in "([")) \
                    or "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text):
                current += 1
        ids.append(current)
    return ids


@dataclass
class Candidates:
    """The candidate mention pairs of one document.

    mentions: the spans (in the document that is being annotated).
    ids: the entity keys of each mention (see :func:`mention_ids`).
    pairs: (head index, tail index) into ``mentions``.
    distances: distance feature of each pair (:func:`distance_feature`).
    features: document-level features of each pair (:data:`PAIR_FEATURES`).
    contexts: (start, end) token range between the mentions of each pair, or
        (0, 0) when they are in different sentences or far apart.
    capped: candidate pairs dropped by ``max_pairs``.
    prior: training-set prior features of each pair (:mod:`.memory`), set by the
        component when its model uses them.
    """

    mentions: List[Span] = field(default_factory=list)
    ids: List[Tuple[str, ...]] = field(default_factory=list)
    pairs: List[Tuple[int, int]] = field(default_factory=list)
    distances: List[int] = field(default_factory=list)
    features: List[List[float]] = field(default_factory=list)
    contexts: List[Tuple[int, int]] = field(default_factory=list)
    capped: int = 0
    prior: List[List[float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pairs)

    def groups(self) -> List[int]:
        """Entity-group index of each mention (by its first key), for pooling."""
        index: Dict[str, int] = {}
        return [index.setdefault(ids[0], len(index)) for ids in self.ids]

    def entity_pairs(self) -> Dict[Tuple[str, str], List[int]]:
        """Entity pair (head key, tail key) -> indices of its candidate mention pairs."""
        out: Dict[Tuple[str, str], List[int]] = {}
        for k, (h, t) in enumerate(self.pairs):
            for head_id in self.ids[h]:
                for tail_id in self.ids[t]:
                    if head_id != tail_id:
                        out.setdefault((head_id, tail_id), []).append(k)
        return out


class EntityPairCandidates:
    """Ordered mention pairs under type constraints (see module docs)."""

    def __init__(self, type_pairs: Sequence[Sequence[str]], max_pairs: int) -> None:
        pairs = [tuple(p) for p in type_pairs]
        if not pairs or any(len(p) != 2 for p in pairs):
            raise ValueError(
                "entity_pair_candidates: type_pairs must be a non-empty list of "
                f"[head label, tail label] pairs, got {type_pairs!r}"
            )
        if max_pairs < 1:
            raise ValueError(f"entity_pair_candidates: max_pairs must be >= 1, got {max_pairs}")
        self.type_pairs: List[Tuple[str, str]] = [(str(a), str(b)) for a, b in pairs]
        self.max_pairs = int(max_pairs)

    def __call__(
        self,
        doc: Doc,
        spans: Optional[Iterable[Span]] = None,
        ids: Optional[Sequence[Tuple[str, ...]]] = None,
    ) -> Candidates:
        """Candidates of ``doc`` among ``spans`` (default ``doc.ents``).

        ids: entity keys per span, when they come from elsewhere (training takes
            them from the gold document); default :func:`mention_ids`.
        """
        spans = list(doc.ents if spans is None else spans)
        ids = [mention_ids(s) for s in spans] if ids is None else list(ids)
        wanted = set(self.type_pairs)
        heads = {h for h, _ in wanted}
        tails = {t for _, t in wanted}
        keep = [i for i, s in enumerate(spans) if s.label_ in heads or s.label_ in tails]
        mentions = [spans[i] for i in keep]
        mention_ids_ = [tuple(ids[i]) for i in keep]
        pairs: List[Tuple[int, int]] = []
        for i, head in enumerate(mentions):
            for j, tail in enumerate(mentions):
                if i == j or (head.label_, tail.label_) not in wanted:
                    continue
                # The same span twice (a mention listed twice) is no pair.
                if head.start == tail.start and head.end == tail.end:
                    continue
                pairs.append((i, j))
        capped = 0
        if len(pairs) > self.max_pairs:
            # Keep the closest pairs: nearby mentions are the likeliest to be related.
            pairs.sort(key=lambda p: (_gap(mentions[p[0]], mentions[p[1]]), p))
            capped = len(pairs) - self.max_pairs
            pairs = sorted(pairs[: self.max_pairs])
        distances = [distance_feature(mentions[h], mentions[t]) for h, t in pairs]
        cands = Candidates(mentions, mention_ids_, pairs, distances, capped=capped)
        if pairs:
            cands.features, cands.contexts = pair_features(doc, cands)
        return cands


def pair_features(doc: Doc, cands: Candidates) -> Tuple[List[List[float]],
                                                         List[Tuple[int, int]]]:
    """Document-level features (:data:`PAIR_FEATURES`) and context ranges of the
    candidate pairs: how often and where each entity is named, and whether the two
    are named in one sentence. Entities are grouped as in :meth:`Candidates.groups`."""
    sent = sentence_ids(doc)
    n_tokens = max(1, len(doc))
    groups = cands.groups()
    m_sent = [sent[m.start] if len(m) else 0 for m in cands.mentions]
    g_sents: Dict[int, set] = {}
    g_count: Dict[int, int] = {}
    g_first: Dict[int, int] = {}
    g_label: Dict[int, str] = {}
    for m, g in enumerate(groups):
        g_sents.setdefault(g, set()).add(m_sent[m])
        g_count[g] = g_count.get(g, 0) + 1
        g_first[g] = min(g_first.get(g, n_tokens), cands.mentions[m].start)
        g_label.setdefault(g, cands.mentions[m].label_)
    top: Dict[str, int] = {}
    for g, c in g_count.items():
        top[g_label[g]] = max(top.get(g_label[g], 0), c)
    gap_cache: Dict[Tuple[int, int], int] = {}
    features: List[List[float]] = []
    contexts: List[Tuple[int, int]] = []
    for h, t in cands.pairs:
        gh, gt = groups[h], groups[t]
        key = (gh, gt)
        if key not in gap_cache:
            gap_cache[key] = min(abs(a - b) for a in g_sents[gh] for b in g_sents[gt])
        entity_gap = gap_cache[key]
        mention_gap = abs(m_sent[h] - m_sent[t])
        head, tail = cands.mentions[h], cands.mentions[t]
        features.append([
            float(mention_gap == 0),
            float(entity_gap == 0),
            float(0 in g_sents[gh]),
            float(0 in g_sents[gt]),
            math.log1p(g_count[gh]) / 3.0,
            math.log1p(g_count[gt]) / 3.0,
            float(g_count[gh] >= top[g_label[gh]]),
            float(g_count[gt] >= top[g_label[gt]]),
            min(entity_gap, 5) / 5.0,
            min(mention_gap, 5) / 5.0,
            g_first[gh] / n_tokens,
            g_first[gt] / n_tokens,
        ])
        start, end = min(head.end, tail.end), max(head.start, tail.start)
        if mention_gap == 0 and 0 < end - start <= MAX_CONTEXT_GAP:
            contexts.append((start, end))
        else:
            contexts.append((0, 0))
    return features, contexts


def _gap(a: Span, b: Span) -> int:
    return max(0, max(a.start, b.start) - min(a.end, b.end))


@registry.misc("spacy-biobert.entity_pair_candidates.v1")
def entity_pair_candidates(
    type_pairs: List[List[str]], max_pairs: int = 1000
) -> Callable[..., Candidates]:
    """Ordered mention pairs over the whole document under type constraints.

    type_pairs (List[List[str]]): Allowed [head label, tail label] pairs, e.g.
        [["CHEMICAL", "DISEASE"]].
    max_pairs (int): At most this many pairs per document; beyond it the closest
        pairs (in tokens) are kept and the rest are counted as capped.
    RETURNS (Callable[[Doc, Optional[Iterable[Span]]], Candidates]): The generator.
    """
    return EntityPairCandidates(type_pairs, max_pairs)
