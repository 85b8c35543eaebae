"""``biobert_abbreviation_detector``: abbreviation definitions and their later uses.

Sets ``doc._.abbreviations`` (short-form Spans) and ``span._.long_form``, scispacy's
attribute names, so code written for its ``AbbreviationDetector`` keeps working. With
``label_short_forms``, a short form whose long form is an entity becomes an entity with
the same label and ``kb_id_`` (never over an entity already in ``doc.ents``).
No weights; pure Python.
"""
from typing import Dict, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from ..extensions import install_extensions
from .detector import DEFAULT_MIN_RELIABILITY, detect
from .storage import set_foreign_extensions, store_abbreviations


class AbbreviationDetector:
    """Find ``long form (SF)`` / ``SF (long form)`` definitions and every later ``SF``."""

    #: ``labels`` selects what is propagated (None = all), it adds no label of its own.
    hide_labels = True

    def __init__(
        self,
        nlp: Language,
        name: str = "abbreviation_detector",
        *,
        min_reliability: float = DEFAULT_MIN_RELIABILITY,
        label_short_forms: bool = True,
        labels: Optional[List[str]] = None,
    ) -> None:
        """min_reliability: drop definitions scored below this (0 to 1);
        label_short_forms: give short forms their long form's entity label;
        labels: the entity labels given to short forms (None = all)."""
        if not 0.0 <= min_reliability <= 1.0:
            raise ValueError(f"[{name}] min_reliability must be in [0, 1], "
                             f"got {min_reliability}")
        install_extensions()
        self.name = name
        self.min_reliability = min_reliability
        self.label_short_forms = label_short_forms
        self.labels = set(labels) if labels is not None else None

    def __call__(self, doc: Doc) -> Doc:
        found = detect(doc, min_reliability=self.min_reliability)
        pairs = [(a.short, a.long) for a in found]
        store_abbreviations(doc, pairs)
        set_foreign_extensions(doc, pairs)
        if self.label_short_forms and doc.ents:
            new = self.labelled_short_forms(doc, pairs)
            if new:
                doc.set_ents(new, default="unmodified")
        return doc

    def labelled_short_forms(self, doc: Doc, pairs: List[Tuple[Span, Span]]) -> List[Span]:
        """Short forms that get their long form's entity label (none overlap ``doc.ents``)."""
        by_end: Dict[int, Span] = {ent.end: ent for ent in doc.ents}
        taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
        new = []
        for short, long in pairs:
            ent = by_end.get(long.end)
            if ent is None or ent.start < long.start:
                continue  # the long form is no entity (or only part of a longer one)
            if self.labels is not None and ent.label_ not in self.labels:
                continue
            if any(i in taken for i in range(short.start, short.end)):
                continue
            new.append(Span(doc, short.start, short.end, label=ent.label_, kb_id=ent.kb_id_))
        return filter_spans(new)


@Language.factory(
    "biobert_abbreviation_detector",
    assigns=["doc._.abbreviations", "span._.long_form", "doc.ents"],
    default_config={
        "min_reliability": DEFAULT_MIN_RELIABILITY,
        "label_short_forms": True,
        "labels": None,
    },
)
def make_abbreviation_detector(
    nlp: Language,
    name: str,
    min_reliability: float,
    label_short_forms: bool,
    labels: Optional[List[str]],
) -> AbbreviationDetector:
    """Factory of the abbreviation detector (see module docs)."""
    return AbbreviationDetector(nlp, name, min_reliability=min_reliability,
                                label_short_forms=label_short_forms, labels=labels)
