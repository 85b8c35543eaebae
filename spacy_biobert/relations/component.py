"""The relation extractor: document-level relations on the shared transformer.

``biobert_relation_extractor`` reads the token vectors of the shared transformer
(through a ``TransformerListener``), builds candidate mention pairs over the whole
document from the entities it is given, and scores each pair for each relation
label (see :mod:`spacy_biobert.relations.architectures`).

**Entities.** At inference the candidates come from ``doc.ents`` (or
``doc.spans[spans_key]``), whichever component, rule or corpus set them. While
training they come from the *gold* entities (``example.reference``, mapped by
character offsets onto the predicted tokens): teacher forcing, so the relation
extractor learns from clean pairs while the NER heads of the same ``spacy train``
run are still weak, and both share one transformer pass.

**Documents.** Only documents whose corpus annotates relations teach the
extractor: with ``train_corpora`` set, those corpora (``doc._.corpus``); otherwise
documents that carry relation annotations (``doc._.relations`` /
``doc._.entity_relations`` rows, e.g. BC5CDR's CID rows). Other documents give no
loss and no gradient; a batch with none of them still releases the listener with
a zero gradient, so the shared transformer's update is never skipped.

**Entity pairs and the loss.** An entity is all mentions with the same key
(``mention_ids``: normalized ids, else normalized text): gold ids while training, the
entity linker's ids at inference (``biobert_entity_linker`` before this component), so
``doc._.entity_relations`` pairs concepts (``MESH:D008094``); a NIL mention keeps its
text key (``text:lithium``). The score of an entity
pair is ``sigmoid(logsumexp(logits of its mention pairs))``, a smooth maximum.
The loss is binary cross-entropy on *entity* pairs (multi-instance learning): the
corpus says that the chemical induces the disease, not which mention pair states
it, so labelling every mention pair positive would teach the model many pairs that
say nothing. Gradients flow to the mention pairs in proportion to their softmax
weight: the pair that states the relation best gets most of it.

**Output.** ``doc._.relations`` (mention pairs) and ``doc._.entity_relations``
(entity pairs with their mention pairs, best first), each with label and score.
By default only items above their threshold are written (entity pairs:
``threshold``; mention pairs: ``mention_threshold``, default the same; the two are
separate because a mention pair's own score is lower than the smooth maximum of its
entity pair). With ``min_per_doc = k`` every document with candidates also reports its
``k`` best-scored entity pairs per label, below the threshold if need be (BC5CDR
abstracts all state at least one CID relation; mention pairs are not affected); with
``store_all_candidates = true`` every candidate is written with its score (what
evaluation uses for ROC/PR curves). ``doc.user_data["spacy_biobert.relation_pairs_capped"]``
counts the candidate pairs dropped by the candidate generator's cap.

**Training-set prior.** When the model takes ``prior = true``, ``initialize`` counts
the relations of all training documents it learns from into a
:class:`~.memory.RelationMemory` (kept in the component's cfg, so it is saved and
packaged with the pipeline), and every candidate pair gets the prior's features;
while training, a document's own relations are left out of its features.
"""
import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer
from thinc.types import Floats2d

from ..extensions import install_extensions
from ..fork_safety import install_fork_hook
from ..listeners import LISTENER_CONFIG, release_listener
from ..optim import check_lr_scale, finish_update_scaled
from .candidates import Candidates, EntityPairCandidates, mention_ids
from .items import (
    ENTITY_RELATIONS_KEY,
    RELATIONS_KEY,
    EntityRelation,
    Relation,
    select_entity_relations,
)
from .memory import DocCounts, RelationMemory, doc_counts, doc_hash

logger = logging.getLogger(__name__)

CAPPED_KEY = "spacy_biobert.relation_pairs_capped"
#: Candidate pairs scored per model call at inference: a batch's pair features (about
#: 11 KB per pair on a 384-wide transformer) are built a slice of documents at a time.
PREDICT_PAIRS = 1024

DEFAULT_REL_MODEL_CONFIG = """
[model]
@architectures = "spacy-biobert.RelationModel.v2"
hidden_width = 256
dropout = 0.1
nO = null
""" + LISTENER_CONFIG
DEFAULT_REL_MODEL = Config().from_str(DEFAULT_REL_MODEL_CONFIG)["model"]

DEFAULT_CANDIDATES = {
    "@misc": "spacy-biobert.entity_pair_candidates.v1",
    "type_pairs": [["CHEMICAL", "DISEASE"]],
    "max_pairs": 1000,
}


def _sigmoid(x: numpy.ndarray) -> numpy.ndarray:
    return 1.0 / (1.0 + numpy.exp(-numpy.clip(x, -30.0, 30.0)))


def _logsumexp(x: numpy.ndarray) -> Tuple[float, numpy.ndarray]:
    """logsumexp of a vector and its softmax (the gradient)."""
    top = float(x.max())
    e = numpy.exp(x - top)
    return top + float(numpy.log(e.sum())), e / e.sum()


def _pair_slices(sizes: List[int], limit: int) -> List[Tuple[int, int]]:
    """Consecutive [start, end) slices of documents, each with at most ``limit`` pairs
    (a document with more is a slice of its own)."""
    slices: List[Tuple[int, int]] = []
    start, total = 0, 0
    for i, size in enumerate(sizes):
        if i > start and total + size > limit:
            slices.append((start, i))
            start, total = i, 0
        total += size
    slices.append((start, len(sizes)))
    return slices


def check_min_per_doc(value: Any, name: str) -> int:
    """``min_per_doc`` as an int >= 0, or a ValueError naming the component."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: min_per_doc must be an integer >= 0, got {value!r}")
    return value


def has_relation_annotation(doc: Doc) -> bool:
    """Whether a (gold) Doc carries relation rows (possibly empty ones)."""
    return RELATIONS_KEY in doc.user_data or ENTITY_RELATIONS_KEY in doc.user_data


def gold_entity_pairs(doc: Doc) -> Dict[str, set]:
    """Label -> set of (head id, tail id) of a gold Doc's relations.

    Entity relations count as they are; mention relations (e.g. from BRAT) count as
    the entity pairs of their mentions.
    """
    out: Dict[str, set] = {}
    for rel in doc._.entity_relations:
        out.setdefault(rel.label, set()).add((rel.head_id, rel.tail_id))
    for mrel in doc._.relations:
        for h in mention_ids(mrel.head):
            for t in mention_ids(mrel.tail):
                out.setdefault(mrel.label, set()).add((h, t))
    return out


class RelationExtractor(TrainablePipe):
    """Document-level relation extractor (see module docs)."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "relation_extractor",
        *,
        candidates: Callable[..., Candidates],
        labels: Iterable[str] = ("CID",),
        threshold: float = 0.5,
        mention_threshold: Optional[float] = None,
        min_per_doc: int = 0,
        spans_key: Optional[str] = None,
        train_corpora: Optional[Iterable[str]] = None,
        store_all_candidates: bool = False,
        head_lr_scale: float = 1.0,
        scorer: Optional[Callable] = None,
    ) -> None:
        """Create the component.

        candidates (Callable): A candidate generator, e.g.
            ``spacy-biobert.entity_pair_candidates.v1``.
        labels (Iterable[str]): Relation labels.
        threshold (float): Minimum score of a predicted entity relation.
        mention_threshold (Optional[float]): Minimum score of a predicted mention
            relation; None = ``threshold``.
        min_per_doc (int): Report at least this many entity relations per label in
            every document that has candidates (its best-scored ones), even below
            ``threshold``; 0 = the threshold alone decides.
        spans_key (Optional[str]): Read entities from ``doc.spans[spans_key]``
            (they may overlap) instead of ``doc.ents``.
        train_corpora (Optional[Iterable[str]]): Learn only from these corpora;
            None = from documents that carry relation annotations.
        store_all_candidates (bool): Write every candidate, not only those above
            the threshold.
        head_lr_scale (float): The extractor's own weights learn at this multiple
            of the training learning rate (see :mod:`spacy_biobert.optim`).
        """
        install_extensions()
        # A pipeline with this component runs torch; nlp.pipe(n_process=N) then forks.
        install_fork_hook()
        self.vocab = vocab
        self.model = model
        self.name = name
        self.candidates = candidates
        self.scorer = scorer
        type_pairs = getattr(candidates, "type_pairs", None)
        max_pairs = getattr(candidates, "max_pairs", None)
        self.cfg: Dict[str, Any] = {
            "labels": sorted(set(labels)),
            "threshold": float(threshold),
            "mention_threshold": None if mention_threshold is None else float(mention_threshold),
            "min_per_doc": check_min_per_doc(min_per_doc, name),
            "type_pairs": [list(p) for p in type_pairs] if type_pairs else None,
            "max_pairs": max_pairs,
            "spans_key": spans_key,
            "train_corpora": sorted(train_corpora) if train_corpora else None,
            "store_all_candidates": bool(store_all_candidates),
            "head_lr_scale": check_lr_scale(head_lr_scale, name),
        }
        #: Documents and candidate pairs dropped by the pair cap since creation.
        self.capped_docs = 0
        self.capped_pairs = 0
        # Whether the model reads prior features (fixed with the model).
        self._uses_prior = any(node.attrs.get("prior") for node in model.walk())
        self._memory: Optional[Tuple[Dict[str, Any], RelationMemory]] = None
        self._warned_no_memory = False

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def threshold(self) -> float:
        # Rounded: srsly's JSON reader can turn 0.3 into 0.30000000000000004.
        return round(float(self.cfg["threshold"]), 6)

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.cfg["threshold"] = float(value)

    @property
    def mention_threshold(self) -> float:
        value = self.cfg.get("mention_threshold")
        return self.threshold if value is None else round(float(value), 6)

    @mention_threshold.setter
    def mention_threshold(self, value: Optional[float]) -> None:
        self.cfg["mention_threshold"] = None if value is None else float(value)

    @property
    def min_per_doc(self) -> int:
        """Entity relations per label reported in every document with candidates."""
        return int(self.cfg.get("min_per_doc") or 0)

    @min_per_doc.setter
    def min_per_doc(self, value: int) -> None:
        self.cfg["min_per_doc"] = check_min_per_doc(value, self.name)

    def add_label(self, label: str) -> int:
        if label in self.cfg["labels"]:
            return 0
        if self.model.has_dim("nO") and self.model.get_dim("nO"):
            raise ValueError(f"{self.name}: cannot add label {label!r} after initialization")
        self.cfg["labels"] = sorted(set(self.cfg["labels"]) | {label})
        return 1

    # --- training-set prior -----------------------------------------------------------

    @property
    def uses_prior(self) -> bool:
        """Whether the model reads the training-set prior features."""
        return self._uses_prior

    @property
    def memory(self) -> Optional[RelationMemory]:
        """The training-set relation memory (None before ``initialize``)."""
        data = self.cfg.get("memory")
        if not data:
            return None
        if self._memory is None or self._memory[0] is not data:
            self._memory = (data, RelationMemory.from_dict(data))
        return self._memory[1]

    def _type_pairs(self) -> List[Tuple[str, str]]:
        return [(str(a), str(b)) for a, b in self.cfg.get("type_pairs") or []]

    def _gold_spans(self, ref: Doc) -> List[Span]:
        key = self.cfg.get("spans_key")
        return list(ref.spans[key]) if key and key in ref.spans else list(ref.ents)

    def _doc_counts(self, ref: Doc) -> DocCounts:
        gold = {p for pairs in gold_entity_pairs(ref).values() for p in pairs}
        return doc_counts(ref, self._type_pairs(), gold, self._gold_spans(ref))

    def _add_prior(self, cands: Candidates, ref: Optional[Doc] = None) -> Candidates:
        """Set ``cands.prior``; ``ref``: the gold Doc of a training example, whose own
        counts are left out."""
        if not len(cands) or not self.uses_prior:
            return cands
        memory = self.memory
        if memory is None:
            if not self._warned_no_memory:
                logger.warning("%s: the model uses the training-set prior, but no memory "
                               "was built (initialize the component on training data "
                               "with relations); its features are zero", self.name)
                self._warned_no_memory = True
            return cands
        exclude = None
        if ref is not None and doc_hash(ref) in memory.docs:
            exclude = self._doc_counts(ref)
        cands.prior = memory.features(cands, exclude)
        return cands

    def build_memory(self, examples: Iterable[Example]) -> RelationMemory:
        """Count the relations of the examples this component learns from into the
        training-set memory (stored in ``cfg["memory"]``)."""
        memory = RelationMemory.build(
            (doc_hash(eg.reference), self._doc_counts(eg.reference))
            for eg in examples if self.learns_from(eg.reference)
        )
        self.cfg["memory"] = memory.to_dict()
        logger.info("%s: training-set prior from %d documents (%d related entity pairs)",
                    self.name, len(memory), len(memory.pair_pos))
        return memory

    # --- candidates -------------------------------------------------------------------

    def _spans(self, doc: Doc) -> List[Span]:
        key = self.cfg.get("spans_key")
        if key:
            return list(doc.spans[key]) if key in doc.spans else []
        return list(doc.ents)

    def _doc_candidates(self, doc: Doc) -> Candidates:
        cands = self.candidates(doc, self._spans(doc))
        self._count_cap(doc, cands)
        return self._add_prior(cands)

    def _count_cap(self, doc: Doc, cands: Candidates) -> None:
        if cands.capped:
            self.capped_docs += 1
            self.capped_pairs += cands.capped
            logger.warning(
                "%s: document %s has more than %d candidate pairs; kept the %d closest, "
                "dropped %d", self.name, doc._.doc_id or f"({len(doc)} tokens)",
                self.cfg.get("max_pairs"), len(cands), cands.capped,
            )
        doc.user_data[CAPPED_KEY] = cands.capped

    def learns_from(self, doc: Doc) -> bool:
        """Whether a reference Doc annotates relations (see module docs)."""
        corpora = self.cfg.get("train_corpora")
        if corpora:
            return doc._.corpus in corpora
        return has_relation_annotation(doc)

    def _gold_candidates(self, eg: Example) -> Candidates:
        """Candidates from the gold entities, on the predicted Doc's tokens."""
        ref, pred = eg.reference, eg.predicted
        if not self.learns_from(ref):
            return Candidates()
        gold_spans = self._gold_spans(ref)
        spans: List[Span] = []
        ids: List[Tuple[str, ...]] = []
        for span in gold_spans:
            mapped = pred.char_span(span.start_char, span.end_char, label=span.label_,
                                    kb_id=span.kb_id_, alignment_mode="expand")
            if mapped is not None:
                spans.append(mapped)
                ids.append(mention_ids(span))
        return self._add_prior(self.candidates(pred, spans, ids), ref)

    # --- prediction -------------------------------------------------------------------

    def predict(self, docs: Iterable[Doc]) -> Tuple[List[Candidates], Floats2d]:
        """Candidates of each Doc and the logits of all candidate pairs."""
        docs = list(docs)
        cands = [self._doc_candidates(doc) for doc in docs]
        if not docs:
            return cands, self.model.ops.alloc2f(0, len(self.labels))
        # Every Doc goes through the model, even without candidates (the listener reads
        # each Doc's transformer output); a slice at a time bounds the features' memory.
        ops = self.model.ops
        logits = [self.model.predict((docs[start:end], cands[start:end]))
                  for start, end in _pair_slices([len(c) for c in cands], PREDICT_PAIRS)]
        return cands, logits[0] if len(logits) == 1 else ops.xp.vstack(logits)

    def set_annotations(  # type: ignore[override]
        self, docs: Iterable[Doc], predictions: Tuple[List[Candidates], Floats2d]
    ) -> None:
        """Write ``doc._.relations`` and ``doc._.entity_relations`` (see module docs)."""
        cands_list, logits = predictions
        logits_np = self.model.ops.to_numpy(logits)
        keep_all = bool(self.cfg.get("store_all_candidates"))
        threshold = self.threshold
        mention_threshold = self.mention_threshold
        row = 0
        for doc, cands in zip(docs, cands_list):
            z = logits_np[row:row + len(cands)]
            row += len(cands)
            relations: List[Relation] = []
            entity_relations: List[EntityRelation] = []
            probs = _sigmoid(z)
            groups = cands.entity_pairs()
            for li, label in enumerate(self.labels):
                for k, (h, t) in enumerate(cands.pairs):
                    score = float(probs[k, li])
                    if keep_all or score >= mention_threshold:
                        relations.append(Relation(cands.mentions[h], cands.mentions[t],
                                                  label, score))
                for (head_id, tail_id), idx in groups.items():
                    lse, _ = _logsumexp(z[idx, li])
                    score = float(_sigmoid(numpy.asarray(lse)))
                    order = sorted(idx, key=lambda k: -z[k, li])
                    mentions = tuple((cands.mentions[cands.pairs[k][0]],
                                      cands.mentions[cands.pairs[k][1]]) for k in order)
                    entity_relations.append(EntityRelation(head_id, tail_id, label, score,
                                                           mentions))
            if not keep_all:
                entity_relations = select_entity_relations(entity_relations, threshold,
                                                           self.min_per_doc)
            doc._.relations = relations
            doc._.entity_relations = entity_relations

    # --- training ---------------------------------------------------------------------

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """Learn from the examples that annotate relations (see module docs)."""
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_get_examples(lambda: examples, "RelationExtractor.update")
        docs = [eg.predicted for eg in examples]
        cands = [self._gold_candidates(eg) for eg in examples]
        if not any(len(c) for c in cands):
            release_listener(self.model.get_ref("tok2vec"), docs)
            return losses
        logits, backprop = self.model.begin_update((docs, cands))
        loss, d_logits = self.get_loss(examples, (cands, logits))
        backprop(d_logits)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def finish_update(self, sgd: Optimizer) -> None:
        """Update the extractor's own weights at ``head_lr_scale`` times the rate."""
        finish_update_scaled(self.model, sgd, float(self.cfg.get("head_lr_scale", 1.0)))

    def get_loss(  # type: ignore[override]
        self, examples: Iterable[Example], predictions: Tuple[List[Candidates], Floats2d]
    ) -> Tuple[float, Floats2d]:
        """Binary cross-entropy on entity pairs, each scored by the logsumexp of its
        mention pairs' logits (see module docs)."""
        cands_list, logits = predictions
        z_all = self.model.ops.to_numpy(logits).astype("float64")
        d_all = numpy.zeros_like(z_all)
        total = 0.0
        n_groups = 0
        row = 0
        for eg, cands in zip(examples, cands_list):
            n = len(cands)
            if not n:
                continue
            z, d = z_all[row:row + n], d_all[row:row + n]
            row += n
            gold = gold_entity_pairs(eg.reference)
            for (head_id, tail_id), idx in cands.entity_pairs().items():
                for li, label in enumerate(self.labels):
                    y = 1.0 if (head_id, tail_id) in gold.get(label, ()) else 0.0
                    lse, weights = _logsumexp(z[idx, li])
                    p = float(_sigmoid(numpy.asarray(lse)))
                    total -= y * numpy.log(max(p, 1e-12)) + (1 - y) * numpy.log(max(1 - p, 1e-12))
                    d[idx, li] += (p - y) * weights
                    n_groups += 1
        scale = 1.0 / max(1, n_groups)
        d_logits = self.model.ops.asarray2f((d_all * scale).astype("float32"))
        return float(total * scale), d_logits

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[List[str]] = None,
    ) -> None:
        """Initialize the model on a sample of the training examples (and, when the
        model uses the training-set prior, build the memory from all of them)."""
        validate_get_examples(get_examples, "RelationExtractor.initialize")
        if labels is not None:
            self.cfg["labels"] = sorted(set(labels))
        if not self.cfg["labels"]:
            raise ValueError(f"{self.name}: no relation labels (set `labels` in the config)")
        if self.uses_prior:
            self.build_memory(get_examples())
        sample: List[Example] = []
        for eg in get_examples():
            sample.append(eg)
            if len(sample) >= 10:
                break
        docs = [eg.predicted for eg in sample]
        cands = [self._gold_candidates(eg) for eg in sample]
        n_pairs = sum(len(c) for c in cands)
        output = self.model.get_ref("output_layer")
        if not output.has_dim("nO") or output.get_dim("nO") is None:
            output.set_dim("nO", len(self.labels))
        Y = self.model.ops.alloc2f(n_pairs, len(self.labels))
        self.model.initialize(X=(docs, cands), Y=Y)

    def score(self, examples: Iterable[Example], **kwargs: Any) -> Dict[str, Any]:
        """Document-level entity-pair scores (see :mod:`.scorer`)."""
        if self.scorer is None:
            return {}
        kwargs.setdefault("threshold", self.threshold)
        kwargs.setdefault("min_per_doc", self.min_per_doc)
        kwargs.setdefault("labels", self.labels)
        return self.scorer(examples, **kwargs)


@Language.factory(
    "biobert_relation_extractor",
    requires=["doc.ents"],
    assigns=["doc._.relations", "doc._.entity_relations"],
    default_config={
        "model": DEFAULT_REL_MODEL,
        "candidates": DEFAULT_CANDIDATES,
        "labels": ["CID"],
        "threshold": 0.5,
        "mention_threshold": None,
        "min_per_doc": 0,
        "spans_key": None,
        "train_corpora": None,
        "store_all_candidates": False,
        "head_lr_scale": 1.0,
        "scorer": {"@scorers": "spacy-biobert.relation_scorer.v1"},
    },
    default_score_weights={"rel_micro_f": 1.0, "rel_micro_p": 0.0, "rel_micro_r": 0.0},
)
def make_relation_extractor(
    nlp: Language,
    name: str,
    model: Model,
    candidates: Callable[..., Candidates],
    labels: List[str],
    threshold: float,
    mention_threshold: Optional[float],
    min_per_doc: int,
    spans_key: Optional[str],
    train_corpora: Optional[List[str]],
    store_all_candidates: bool,
    head_lr_scale: float,
    scorer: Optional[Callable],
) -> RelationExtractor:
    """Factory of the document-level relation extractor (see module docs)."""
    return RelationExtractor(
        nlp.vocab, model, name, candidates=candidates, labels=labels, threshold=threshold,
        mention_threshold=mention_threshold, min_per_doc=min_per_doc,
        spans_key=spans_key, train_corpora=train_corpora,
        store_all_candidates=store_all_candidates, head_lr_scale=head_lr_scale,
        scorer=scorer,
    )


__all__ = ["RelationExtractor", "EntityPairCandidates", "make_relation_extractor"]
