"""A training-set relation prior ("memory") for the relation extractor.

Many chemical-disease pairs recur across abstracts: in BC5CDR, 21 % of the dev
split's CID pairs (by MeSH id) are CID pairs of some training abstract, and a
candidate entity pair that was a training CID pair is a CID pair again 64 % of the
time (215 of 335; base rate 19 %). BioCreative V systems got the same signal from curated
knowledge bases (CTD); this prior takes it from the training split only.

:class:`RelationMemory` counts, over the training documents that annotate
relations:

- per entity pair (head key, tail key): the documents that state the relation and
  the documents that name both entities;
- per head / tail key: the documents in which the entity is a relation head / tail
  and the documents that name it.

Keys are the entity keys of :func:`~.candidates.mention_ids` (normalized ids) and,
for every mention, its normalized text (``text:<lower-cased>``), so the prior also
applies to entities without ids (end-to-end pipelines). Relation labels are pooled.

While training, the features of a document leave that document out (its own
counts are subtracted), so the extractor learns how far to trust a prior that was
built without the document in front of it - as at inference on unseen text.
Features per candidate mention pair (:data:`PRIOR_FEATURES`) are the maximum over
the key combinations of its two mentions.
"""
import hashlib
import math
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from spacy.tokens import Doc, Span

from .candidates import Candidates, mention_ids
from .items import text_key

#: Features of a candidate pair from the memory.
PRIOR_FEATURES = (
    "pair_known",   # the entity pair is a relation in some other training document
    "pair_count",   # log(1 + documents stating it) / 2, at most 1
    "pair_rate",    # documents stating it / (documents naming both + 1)
    "head_rate",    # documents where the head is a relation head / (documents naming it + 1)
    "tail_rate",    # the same for the tail
)
N_PRIOR_FEATURES = len(PRIOR_FEATURES)

Pair = Tuple[str, str]


class DocCounts:
    """What one gold document contributes to the memory."""

    __slots__ = ("pos_pairs", "co_pairs", "heads", "tails", "head_pos", "tail_pos")

    def __init__(self) -> None:
        self.pos_pairs: Set[Pair] = set()
        self.co_pairs: Set[Pair] = set()
        self.heads: Set[str] = set()
        self.tails: Set[str] = set()
        self.head_pos: Set[str] = set()
        self.tail_pos: Set[str] = set()


def doc_hash(doc: Doc) -> str:
    """A short fingerprint of a document's text (leave-one-out and de-duplication)."""
    return hashlib.sha1(doc.text.encode("utf8", "surrogatepass")).hexdigest()[:16]


def span_keys(span: Span, ids: Optional[Tuple[str, ...]] = None) -> Tuple[str, ...]:
    """The memory keys of a mention: its entity keys and its normalized text."""
    keys = list(mention_ids(span) if ids is None else ids)
    text = text_key(span)
    if text not in keys:
        keys.append(text)
    return tuple(keys)


def doc_counts(doc: Doc, type_pairs: Iterable[Tuple[str, str]],
               gold_pairs: Iterable[Pair], spans: Iterable[Span]) -> DocCounts:
    """The counts of one gold document.

    type_pairs: allowed (head label, tail label) pairs.
    gold_pairs: its relations as (head key, tail key), any label.
    spans: its gold entity mentions.
    """
    wanted = {(str(a), str(b)) for a, b in type_pairs}
    head_labels = {a for a, _ in wanted}
    tail_labels = {b for _, b in wanted}
    counts = DocCounts()
    mentions = [(s, mention_ids(s)) for s in spans]
    # entity key -> all memory keys of its mentions (ids and texts)
    expand: Dict[str, Set[str]] = {}
    heads: List[Tuple[str, Tuple[str, ...]]] = []
    tails: List[Tuple[str, Tuple[str, ...]]] = []
    for span, ids in mentions:
        keys = span_keys(span, ids)
        for key in ids:
            expand.setdefault(key, set()).update(keys)
        if span.label_ in head_labels:
            heads.append((span.label_, keys))
            counts.heads.update(keys)
        if span.label_ in tail_labels:
            tails.append((span.label_, keys))
            counts.tails.update(keys)
    for h_label, h_keys in heads:
        for t_label, t_keys in tails:
            if (h_label, t_label) not in wanted:
                continue
            for h in h_keys:
                for t in t_keys:
                    if h != t:
                        counts.co_pairs.add((h, t))
    for head_id, tail_id in gold_pairs:
        head_keys = expand.get(head_id, {head_id})
        tail_keys = expand.get(tail_id, {tail_id})
        counts.head_pos.update(head_keys)
        counts.tail_pos.update(tail_keys)
        for h in head_keys:
            for t in tail_keys:
                if h != t:
                    counts.pos_pairs.add((h, t))
    return counts


class RelationMemory:
    """Relation counts over the training documents (see module docs)."""

    def __init__(self) -> None:
        self.docs: Set[str] = set()
        self.pair_pos: Counter = Counter()
        self.pair_co: Counter = Counter()
        self.head_pos: Counter = Counter()
        self.head_docs: Counter = Counter()
        self.tail_pos: Counter = Counter()
        self.tail_docs: Counter = Counter()

    def __len__(self) -> int:
        return len(self.docs)

    @classmethod
    def build(cls, items: Iterable[Tuple[str, DocCounts]]) -> "RelationMemory":
        """The memory of (document hash, counts) items; a document seen twice (a
        corpus repeated per epoch) counts once. Only keys and pairs that are ever
        part of a relation are kept (all others have zero features anyway)."""
        memory = cls()
        per_doc: List[DocCounts] = []
        for key, counts in items:
            if key in memory.docs:
                continue
            memory.docs.add(key)
            per_doc.append(counts)
            memory.pair_pos.update(counts.pos_pairs)
            memory.head_pos.update(counts.head_pos)
            memory.tail_pos.update(counts.tail_pos)
        for counts in per_doc:
            memory.pair_co.update(p for p in counts.co_pairs if p in memory.pair_pos)
            memory.head_docs.update(k for k in counts.heads if k in memory.head_pos)
            memory.tail_docs.update(k for k in counts.tails if k in memory.tail_pos)
        return memory

    def features(self, cands: Candidates, exclude: Optional[DocCounts] = None
                 ) -> List[List[float]]:
        """:data:`PRIOR_FEATURES` of each candidate pair; ``exclude``: counts of the
        document itself (leave-one-out while training)."""
        keys = [span_keys(span, ids) for span, ids in zip(cands.mentions, cands.ids)]
        ex = exclude or DocCounts()
        head_cache: Dict[Tuple[str, ...], float] = {}
        tail_cache: Dict[Tuple[str, ...], float] = {}
        out: List[List[float]] = []
        for h, t in cands.pairs:
            best_pos = 0
            best_rate = 0.0
            for hk in keys[h]:
                for tk in keys[t]:
                    pos = self.pair_pos.get((hk, tk), 0) - ((hk, tk) in ex.pos_pairs)
                    if pos <= 0:
                        continue
                    co = self.pair_co.get((hk, tk), 0) - ((hk, tk) in ex.co_pairs)
                    best_pos = max(best_pos, pos)
                    best_rate = max(best_rate, min(1.0, pos / (co + 1.0)))
            if keys[h] not in head_cache:
                head_cache[keys[h]] = max(
                    (self._rate(self.head_pos, self.head_docs, k, ex.head_pos, ex.heads)
                     for k in keys[h]), default=0.0)
            if keys[t] not in tail_cache:
                tail_cache[keys[t]] = max(
                    (self._rate(self.tail_pos, self.tail_docs, k, ex.tail_pos, ex.tails)
                     for k in keys[t]), default=0.0)
            out.append([
                float(best_pos > 0),
                min(1.0, math.log1p(best_pos) / 2.0),
                best_rate,
                head_cache[keys[h]],
                tail_cache[keys[t]],
            ])
        return out

    @staticmethod
    def _rate(pos: Counter, docs: Counter, key: str, ex_pos: Set[str],
              ex_docs: Set[str]) -> float:
        n_pos = pos.get(key, 0) - (key in ex_pos)
        if n_pos <= 0:
            return 0.0
        return min(1.0, n_pos / (docs.get(key, 0) - (key in ex_docs) + 1.0))

    # --- serialization (JSON-safe, kept in the component's cfg) ----------------------

    def to_dict(self) -> Dict[str, Any]:
        def pairs(counter: Counter) -> List[List[Any]]:
            return [[h, t, n] for (h, t), n in sorted(counter.items())]

        def keys(counter: Counter) -> List[List[Any]]:
            return [[k, n] for k, n in sorted(counter.items())]

        return {
            "docs": sorted(self.docs),
            "pair_pos": pairs(self.pair_pos), "pair_co": pairs(self.pair_co),
            "head_pos": keys(self.head_pos), "head_docs": keys(self.head_docs),
            "tail_pos": keys(self.tail_pos), "tail_docs": keys(self.tail_docs),
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "RelationMemory":
        memory = cls()
        memory.docs = set(data.get("docs", []))
        for name in ("pair_pos", "pair_co"):
            setattr(memory, name, Counter({(h, t): int(n) for h, t, n in data.get(name, [])}))
        for name in ("head_pos", "head_docs", "tail_pos", "tail_docs"):
            setattr(memory, name, Counter({k: int(n) for k, n in data.get(name, [])}))
        return memory
