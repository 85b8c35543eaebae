"""NER heads for corpora that annotate only some labels.

BC5CDR annotates chemicals and diseases, NCBI Disease only diseases, BC2GM only
genes, LINNAEUS only species. A gene in a BC5CDR abstract is *unannotated*, not a
negative example. A single ``ner`` trained on all four corpora would learn that
genes in BC5CDR text are "O". Instead the pipeline has one head per label group,
each a spaCy ``ner`` (same transition system and model) listening to the one shared
transformer, and each learns only from documents whose corpus annotates all of its
labels (``doc._.annotated_labels``, set by the corpus readers):

- from such a document, the head sees the gold entities of its own labels, and every
  other token as "O" for its labels;
- from any other document, the head's gold is *missing* (spaCy's partial
  annotation), so its loss and gradient are exactly zero; it still passes a zero
  gradient back to the transformer listener so the shared transformer's update for
  the batch happens whichever head comes last.

At inference each head predicts on its own, as in training, unconstrained by the
other heads' entities, and adds what it found to ``doc.spans["ner_heads"]``
(``spans_key``), where the heads' entities may overlap ("human insulin" a gene,
"human" a species). ``doc.ents`` takes the entities that overlap no earlier head's:
the **earlier head wins** an overlap (the configs order heads SPECIES, CHEMICAL,
DISEASE, GENE_OR_GENE_PRODUCT). :func:`spacy_biobert.ner.scorer.label_view` reads
both layers back for a corpus's labels.
"""
from typing import Callable, Iterable, List, Optional, Sequence

from spacy.language import Language
from spacy.pipeline._parser_internals._beam_utils import collect_states
from spacy.pipeline.ner import EntityRecognizer
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example
from thinc.api import Config, Model

from ..extensions import install_extensions
from ..fork_safety import install_fork_hook
from ..listeners import LISTENER_CONFIG, release_listener
from ..optim import check_lr_scale, finish_update_scaled

#: Documents a head looks at in ``initialize`` (its labels come from the config).
INIT_SAMPLE_SIZE = 50
#: ``doc.spans`` key of every head's own entities, overlaps included.
HEAD_SPANS_KEY = "ner_heads"

DEFAULT_HEAD_MODEL_CONFIG = """
[model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 64
maxout_pieces = 2
use_upper = false
nO = null
""" + LISTENER_CONFIG
DEFAULT_HEAD_MODEL = Config().from_str(DEFAULT_HEAD_MODEL_CONFIG)["model"]


class CorpusAwareEntityRecognizer(EntityRecognizer):
    """spaCy's ``ner`` that learns only from documents that annotate its labels."""

    def __init__(
        self,
        vocab,  # type: ignore[no-untyped-def]
        model: Model,
        name: str = "ner_head",
        moves=None,  # type: ignore[no-untyped-def]
        *,
        head_labels: Iterable[str],
        train_corpora: Optional[Iterable[str]] = None,
        head_lr_scale: float = 1.0,
        update_with_oracle_cut_size: int = 100,
        incorrect_spans_key: Optional[str] = None,
        spans_key: Optional[str] = HEAD_SPANS_KEY,
        scorer: Optional[Callable] = None,
    ) -> None:
        """Create a head.

        head_labels (Iterable[str]): The labels this head predicts.
        train_corpora (Optional[Iterable[str]]): Learn only from these corpora
            (``doc._.corpus``); None = every corpus that annotates ``head_labels``.
        head_lr_scale (float): This head's own weights learn at this multiple of
            the training learning rate (see :mod:`spacy_biobert.optim`).
        spans_key (Optional[str]): Add the head's own entities to ``doc.spans[key]``
            (None: only ``doc.ents``).
        """
        install_extensions()
        # A pipeline with this component runs torch; nlp.pipe(n_process=N) then forks.
        install_fork_hook()
        kwargs = {} if scorer is None else {"scorer": scorer}
        super().__init__(
            vocab, model, name, moves,
            update_with_oracle_cut_size=update_with_oracle_cut_size,
            incorrect_spans_key=incorrect_spans_key, **kwargs,
        )
        labels = sorted(set(head_labels))
        if not labels:
            raise ValueError(f"NER head '{name}' needs at least one label in head_labels")
        self.cfg["head_labels"] = labels
        self.cfg["head_lr_scale"] = check_lr_scale(head_lr_scale, name)
        self.cfg["train_corpora"] = sorted(train_corpora) if train_corpora else None
        self.cfg["spans_key"] = spans_key

    @property
    def head_labels(self) -> List[str]:
        return list(self.cfg["head_labels"])

    def learns_from(self, doc: Doc) -> bool:
        """Whether a reference Doc annotates all of this head's labels."""
        corpora = self.cfg.get("train_corpora")
        if corpora and doc._.corpus not in corpora:
            return False
        annotated = doc._.annotated_labels
        if annotated is None:  # a plain corpus: assume it annotates everything
            return True
        return set(self.cfg["head_labels"]) <= set(annotated)

    def mask_example(self, eg: Example) -> Example:
        """The example as this head should see it (see module docs)."""
        ref = eg.reference
        masked = Doc(ref.vocab, words=[t.text for t in ref],
                     spaces=[bool(t.whitespace_) for t in ref])
        masked.user_data.update(ref.user_data)
        if self.learns_from(ref) and ref.has_annotation("ENT_IOB"):
            labels = set(self.cfg["head_labels"])
            ents = [Span(masked, e.start, e.end, label=e.label_, kb_id=e.kb_id_)
                    for e in ref.ents if e.label_ in labels]
            missing = [Span(masked, t.i, t.i + 1) for t in ref if t.ent_iob == 0]
            masked.set_ents(ents, missing=missing, default="outside")
        return Example(eg.predicted, masked)

    def predict(self, docs):  # type: ignore[no-untyped-def, override]
        """Transition states of each doc, decoded without the entities already set."""
        if isinstance(docs, Doc):
            docs = [docs]
        previous = [list(doc.ents) for doc in docs]
        for doc in docs:
            doc.set_ents([], default="missing")
        try:
            return super().predict(docs)
        finally:
            for doc, ents in zip(docs, previous):
                doc.set_ents(ents, default="missing")

    def set_annotations(self, docs: Sequence[Doc], states_or_beams) -> None:  # type: ignore[no-untyped-def, override]
        """Add the head's entities to the span group, and to ``doc.ents`` where free."""
        key = self.cfg.get("spans_key", HEAD_SPANS_KEY)
        for state, doc in zip(collect_states(states_or_beams, docs), docs):
            previous = list(doc.ents)
            doc.set_ents([], default="missing")
            self.moves.set_annotations(state, doc)
            own = list(doc.ents)
            taken = {i for ent in previous for i in range(ent.start, ent.end)}
            free = [e for e in own if not taken.intersection(range(e.start, e.end))]
            doc.set_ents(previous + free, default="outside")
            if key:
                group = doc.spans[key] if key in doc.spans else SpanGroup(doc, name=key)
                group.extend(own)
                doc.spans[key] = group

    def finish_update(self, sgd) -> None:  # type: ignore[no-untyped-def, override]
        """Update this head's own weights at ``head_lr_scale`` times the rate."""
        finish_update_scaled(self.model, sgd, float(self.cfg.get("head_lr_scale", 1.0)))

    def update(self, examples: Iterable[Example], *, drop: float = 0.0, sgd=None,  # type: ignore[no-untyped-def, override]
               losses=None):
        """Learn from the examples whose corpus annotates this head's labels."""
        examples = list(examples)
        masked = [self.mask_example(eg) for eg in examples]
        losses = super().update(masked, drop=drop, sgd=sgd, losses=losses)
        # spaCy's parser returns early from a batch without gold for this head.
        release_listener(self.model.get_ref("tok2vec"), [eg.predicted for eg in examples])
        return losses

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp=None,  # type: ignore[no-untyped-def, override]
                   labels=None):
        """Initialize on masked examples, so that only this head's labels are added."""
        for label in self.cfg["head_labels"]:
            self.add_label(label)

        def masked_examples() -> Iterable[Example]:
            # The labels are fixed by head_labels, so a sample of the documents this
            # head learns from is enough to initialize the model (and much faster
            # than masking every training document).
            sample: List[Example] = []
            for eg in get_examples():
                if self.learns_from(eg.reference):
                    sample.append(self.mask_example(eg))
                    if len(sample) >= INIT_SAMPLE_SIZE:
                        break
            if not sample:
                raise ValueError(
                    f"NER head '{self.name}' ({', '.join(self.cfg['head_labels'])}) found no "
                    "training document that annotates its labels (doc._.annotated_labels); "
                    "check paths.train and the corpora's annotated labels"
                )
            return sample

        return super().initialize(masked_examples, nlp=nlp, labels=labels)


@Language.factory(
    "biobert_ner_head",
    assigns=["doc.ents", "doc.spans", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": DEFAULT_HEAD_MODEL,
        "head_labels": [],
        "train_corpora": None,
        "head_lr_scale": 1.0,
        "moves": None,
        "update_with_oracle_cut_size": 100,
        "incorrect_spans_key": None,
        "spans_key": HEAD_SPANS_KEY,
        "scorer": {"@scorers": "spacy-biobert.partial_ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_ner_head(
    nlp: Language,
    name: str,
    model: Model,
    head_labels: List[str],
    train_corpora: Optional[List[str]],
    head_lr_scale: float,
    moves,  # type: ignore[no-untyped-def]
    update_with_oracle_cut_size: int,
    incorrect_spans_key: Optional[str],
    spans_key: Optional[str],
    scorer: Optional[Callable],
) -> CorpusAwareEntityRecognizer:
    """Factory of an NER head (see module docs); ``model`` as for spaCy's ``ner``."""
    return CorpusAwareEntityRecognizer(
        nlp.vocab, model, name, moves, head_labels=head_labels, train_corpora=train_corpora,
        head_lr_scale=head_lr_scale,
        update_with_oracle_cut_size=update_with_oracle_cut_size,
        incorrect_spans_key=incorrect_spans_key, spans_key=spans_key, scorer=scorer,
    )
