"""What every corpus reader shares: raw records, errors, counting, and Doc building.

A reader parses its format into :class:`RawDocument` records (text, character-offset
mentions, relations, where each came from). :func:`build_doc` turns a record into a
``Doc`` the same way for every format:

- the text is tokenized by the pipeline's tokenizer (the biomedical one);
- each mention becomes a span. A mention whose offsets do not fall on token
  boundaries is **expanded** to the smallest token span that covers it and counted
  as repaired (``report.repaired``), never dropped;
- every mention goes into ``doc.spans["mentions"]``; ``doc.ents`` holds the
  non-overlapping ones (the longest wins; others are counted as ``overlap``);
- ``ent.kb_id_`` is the first normalized id, ``ent._.kb_ids`` all of them, CHEMICAL and
  DISEASE ids namespaced as the linker writes them (``MESH:D008094``, ``OMIM:613097``;
  :func:`spacy_biobert.linking.ids.gold_ids`), and so are the ids of entity relations;
- sentences are marked (section starts, then a punctuation rule);
- relations are stored in the typed form of :mod:`spacy_biobert.relations.items`.
"""
import logging
import re
from bisect import bisect_left
from pathlib import Path
from typing import (
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
)

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import filter_spans

from ..extensions import install_extensions
from ..labels import LABELS, map_type
from ..linking.ids import gold_ids, namespace_id
from ..relations.items import EntityRelation, Relation, supporting_mentions
from .records import (
    ConversionReport,
    CorpusError,
    PathLike,
    RawDocument,
    RawMention,
    format_location,
)

logger = logging.getLogger("spacy_biobert.corpora")

def decode_bytes(data: bytes, path: PathLike) -> str:
    """Decode UTF-8 (a BOM is allowed) or raise naming the line and byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise CorpusError(
            f"bytes that are not UTF-8 at byte {err.start} ({data[err.start:err.start + 4]!r}); "
            "re-encode the file as UTF-8",
            path=path,
            line=line,
        ) from None


def read_text(path: PathLike) -> str:
    """Read a whole corpus file as UTF-8 text; empty or missing files are errors."""
    path = Path(path)
    if not path.exists():
        raise CorpusError("file not found", path=path)
    if path.is_dir():
        raise CorpusError("expected a file, got a directory", path=path)
    data = path.read_bytes()
    text = decode_bytes(data, path)
    if not text.strip():
        raise CorpusError("file is empty", path=path)
    return text


def check_mention_text(
    raw: RawDocument, mention: RawMention, report: ConversionReport
) -> None:
    """Offsets must lie in the text, and the stated text must match what they cover."""
    n = len(raw.text)
    if mention.start >= mention.end:
        raise CorpusError(
            f"mention '{mention.text}' has an empty or reversed span {mention.start}-{mention.end}",
            path=raw.path, line=mention.line, doc_id=raw.doc_id,
        )
    if not (0 <= mention.start < mention.end <= n):
        raise CorpusError(
            f"mention '{mention.text}' has offsets {mention.start}-{mention.end} outside "
            f"the document text (length {n})",
            path=raw.path, line=mention.line, doc_id=raw.doc_id,
        )
    covered = raw.text[mention.start:mention.end]
    if mention.text and covered != mention.text:
        if " ".join(covered.split()) == " ".join(mention.text.split()):
            report.warn(
                "mention_whitespace",
                f"mention text {mention.text!r} differs from the text at "
                f"{mention.start}-{mention.end} ({covered!r}) only in white space; offsets kept",
                path=raw.path, line=mention.line, doc_id=raw.doc_id,
            )
        else:
            raise CorpusError(
                f"mention text {mention.text!r} does not match the text at offsets "
                f"{mention.start}-{mention.end}: {covered!r}",
                path=raw.path, line=mention.line, doc_id=raw.doc_id,
            )


def discontinuous_text(
    text: str,
    fragments: Sequence[Tuple[int, int]],
    stated: str,
    what: str,
    *,
    path: PathLike,
    line: Optional[int] = None,
    doc_id: Optional[str] = None,
) -> str:
    """The text covered by a discontinuous mention (min start to max end), after
    checking its stated text: the fragments joined by spaces (as BRAT and BioC write
    it) or the whole covered span, white space aside. An empty stated text is not
    checked."""
    start = min(s for s, _ in fragments)
    end = max(e for _, e in fragments)
    if start < 0 or end > len(text):
        return stated  # build_doc reports the offsets as outside the text
    covered = text[start:end]
    joined = " ".join(text[s:e] for s, e in sorted(fragments))
    if stated and " ".join(stated.split()) not in (
        " ".join(joined.split()), " ".join(covered.split())
    ):
        raise CorpusError(
            f"{what} text {stated!r} does not match the text of its fragments "
            f"{', '.join(f'{s}-{e}' for s, e in fragments)}: {joined!r}",
            path=path, line=line, doc_id=doc_id)
    return covered


def _sentence_rule_starts(doc: Doc) -> List[int]:
    """Token indices that start a sentence by punctuation: after . ? ! followed by
    an upper-case letter, a digit or an opening bracket."""
    starts = []
    for i in range(1, len(doc)):
        prev, tok = doc[i - 1], doc[i]
        if prev.text in (".", "?", "!") and prev.whitespace_ and (
            tok.text[:1].isupper() or tok.text[:1].isdigit() or tok.text[:1] in "(["
        ):
            starts.append(i)
    return starts


def set_sentences(doc: Doc, section_starts: Sequence[int], *, rule: bool = True) -> int:
    """Mark sentence starts and return how many sentences the doc has.

    Section starts (title, abstract, given sentences) always start a sentence; with
    ``rule``, so does a token after sentence-final punctuation. No boundary is put
    inside an entity mention.
    """
    if len(doc) == 0:
        return 0
    starts = {0}
    token_starts = [token.idx for token in doc]
    for char in section_starts:
        i = bisect_left(token_starts, char)
        if i < len(doc):
            starts.add(i)
    if rule:
        starts.update(_sentence_rule_starts(doc))
    inside: Set[int] = set()
    for span in doc.spans.get("mentions", []):
        inside.update(range(span.start + 1, span.end))
    starts -= inside
    for i, token in enumerate(doc):
        token.is_sent_start = i in starts
    return len(starts)


def build_doc(
    make_doc: Callable[[str], Doc],
    raw: RawDocument,
    report: ConversionReport,
    *,
    corpus: Optional[str] = None,
    annotated_labels: Optional[Sequence[str]] = None,
) -> Doc:
    """Turn a :class:`RawDocument` into an annotated ``Doc`` (see module docs)."""
    install_extensions()
    doc = make_doc(raw.text)
    doc._.doc_id = raw.doc_id
    doc._.corpus = corpus
    if annotated_labels is not None:
        doc._.annotated_labels = tuple(sorted(annotated_labels))
    spans: List[Span] = []
    by_key: Dict[str, Span] = {}
    for mention in raw.mentions:
        check_mention_text(raw, mention, report)
        report.mentions += 1
        report.source_types[mention.source_type] += 1
        ids = gold_ids(mention.ids, mention.label)
        kb_id = ids[0] if ids else ""
        span = doc.char_span(mention.start, mention.end, label=mention.label, kb_id=kb_id)
        if span is None:
            span = doc.char_span(
                mention.start, mention.end, label=mention.label, kb_id=kb_id,
                alignment_mode="expand",
            )
            if span is None or not span.text.strip():
                raise CorpusError(
                    f"mention {mention.text!r} at {mention.start}-{mention.end} covers no token",
                    path=raw.path, line=mention.line, doc_id=raw.doc_id,
                )
            report.repaired += 1
            logger.debug(
                "%sexpanded %r to %r", format_location(raw.path, mention.line, raw.doc_id),
                mention.text, span.text,
            )
        else:
            report.aligned += 1
        report.entities[mention.label] += 1
        spans.append(span)
        if mention.key is not None:
            by_key[mention.key] = span
    doc.spans["mentions"] = spans
    for span, mention in zip(spans, raw.mentions):
        if len(mention.ids) > 1:
            span._.kb_ids = gold_ids(mention.ids, mention.label)
    ents = filter_spans(spans)
    if len(ents) < len({(s.start, s.end, s.label_) for s in spans}):
        kept = {(s.start, s.end, s.label_) for s in ents}
        for span, mention in zip(spans, raw.mentions):
            if (span.start, span.end, span.label_) not in kept:
                report.warn(
                    "overlap",
                    f"mention {mention.text!r} ({mention.label}) overlaps a longer mention; "
                    "it is kept in doc.spans['mentions'] but not in doc.ents",
                    path=raw.path, line=mention.line, doc_id=raw.doc_id,
                )
    doc.ents = ents
    report.sentences += set_sentences(doc, raw.section_starts, rule=not raw.sentences_given)
    _add_relations(doc, raw, by_key, report)
    report.docs += 1
    return doc


def _add_relations(
    doc: Doc, raw: RawDocument, by_key: Dict[str, Span], report: ConversionReport
) -> None:
    entity_rels: List[EntityRelation] = []
    mention_rels: List[Relation] = []
    mentions = list(doc.spans["mentions"])
    # An entity relation names its ids as the mentions' rows do; ids no mention carries
    # (BC5CDR CID rows only name chemicals and diseases) are namespaced alone.
    stored = {r: gold_ids((r,), m.label) for m in raw.mentions for r in m.ids}
    for rel in raw.relations:
        report.relations[rel.label] += 1
        if rel.between == "mentions":
            missing = [k for k in (rel.head, rel.tail) if k not in by_key]
            if missing:
                raise CorpusError(
                    f"relation {rel.label} names mention(s) {', '.join(missing)} that the "
                    "document does not define",
                    path=raw.path, line=rel.line, doc_id=raw.doc_id,
                )
            mention_rels.append(Relation(by_key[rel.head], by_key[rel.tail], rel.label, 1.0))
            continue
        head, tail = (stored[i][0] if stored.get(i) else namespace_id(i)
                      for i in (rel.head, rel.tail))
        support = supporting_mentions(doc, head, tail, mentions)
        if not support:
            known = {i for s in mentions for i in s._.kb_ids}
            missing = [i for i in (head, tail) if i not in known]
            report.warn(
                "relation_without_mentions",
                f"relation {rel.label} {head} -> {tail} names id(s) "
                f"{', '.join(missing) or '(same mention)'} that no mention carries; "
                "kept without supporting mentions",
                path=raw.path, line=rel.line, doc_id=raw.doc_id,
            )
        entity_rels.append(EntityRelation(head, tail, rel.label, 1.0, support))
    if mention_rels:
        doc._.relations = mention_rels
    if entity_rels:
        doc._.entity_relations = entity_rels


def check_unique_ids(
    docs: Iterable[RawDocument], report: ConversionReport
) -> Iterator[RawDocument]:
    """Pass documents through, handling repeated ids.

    An exact repeat (same text, mentions and relations) is kept and counted as a
    ``duplicate_document`` warning, since public corpora contain such repeats
    (NCBI Disease's training set has one) and their published counts include them.
    A repeat with different content is an error.
    """
    seen: Dict[str, Tuple[object, Optional[int]]] = {}
    for raw in docs:
        content = (raw.text, [(m.start, m.end, m.label, m.ids) for m in raw.mentions],
                   [(r.label, r.head, r.tail) for r in raw.relations])
        if raw.doc_id in seen:
            first_content, first_line = seen[raw.doc_id]
            where = f" (first seen at line {first_line})" if first_line is not None else ""
            if first_content != content:
                raise CorpusError(
                    f"duplicate document id{where} with different content",
                    path=raw.path, line=raw.line, doc_id=raw.doc_id,
                )
            report.warn(
                "duplicate_document",
                f"identical copy of an earlier document with this id{where}; kept",
                path=raw.path, line=raw.line, doc_id=raw.doc_id,
            )
        else:
            seen[raw.doc_id] = (content, raw.line)
        yield raw


def split_ids(value: str, separators: str = "|+,;") -> Tuple[str, ...]:
    """Split a normalized-id field ("D001|D002", "D003+D004") and drop "-1"/"-"."""
    parts = re.split("[" + re.escape(separators) + "]", value.strip())
    return tuple(p.strip() for p in parts if p.strip() and p.strip() not in ("-1", "-"))


def docs_from_raw(
    nlp: Language,
    raws: Iterable[RawDocument],
    report: ConversionReport,
    *,
    corpus: Optional[str] = None,
    annotated_labels: Optional[Sequence[str]] = None,
) -> Iterator[Doc]:
    """Build Docs for parsed records with the pipeline's tokenizer."""
    for raw in check_unique_ids(raws, report):
        yield build_doc(nlp.make_doc, raw, report, corpus=corpus,
                        annotated_labels=annotated_labels)


def resolve_label(
    source_type: str,
    label_map: Optional[Dict[str, str]],
    report: ConversionReport,
    *,
    path: PathLike,
    line: Optional[int] = None,
    doc_id: Optional[str] = None,
) -> Optional[str]:
    """The project label for a corpus type; None for a type the user chose to skip.

    An unmapped type is an error: silently dropping it would lose annotations.
    """
    label = map_type(source_type, label_map)
    if label is None:
        raise CorpusError(
            f"unknown entity type {source_type!r}. Map it to a label with "
            f"--label-map '{source_type}=LABEL' (labels: {', '.join(LABELS)}), or skip it on "
            f"purpose with --label-map '{source_type}=-'",
            path=path, line=line, doc_id=doc_id,
        )
    if not label:
        report.ignored[source_type] += 1
        return None
    return label


def observed_labels(raws: Sequence[RawDocument]) -> Tuple[str, ...]:
    """The labels a file annotates: those used by at least one of its mentions."""
    return tuple(sorted({m.label for raw in raws for m in raw.mentions}))


#: A registered reader: path and options -> a ``spacy.readers`` corpus.
ReaderFactory = Callable[..., Callable[[Language], Iterator[Example]]]


def corpus_reader(
    parse: Callable[..., Iterable[RawDocument]], *, name: str, source: str
) -> ReaderFactory:
    """The registered-reader function of one format: every format's reader is this one.

    parse (Callable[..., Iterable[RawDocument]]): The format's parser.
    name (str): The function's name (the one ``setup.py``'s entry point names).
    source (str): What ``path`` is, for the docstring.
    RETURNS (ReaderFactory): ``(path, *, label_map, annotated_labels, corpus, strict,
        limit, **options)`` -> a callable that yields training Examples. Documents are
        re-read on every call (every epoch), so the files stay the source of truth; the
        reference Docs carry the gold annotation.
    """

    def create_reader(
        path: Path,
        *,
        label_map: Optional[Dict[str, str]] = None,
        annotated_labels: Optional[Sequence[str]] = None,
        corpus: Optional[str] = None,
        strict: bool = False,
        limit: int = 0,
        **options: object,
    ) -> Callable[[Language], Iterator[Example]]:
        def read(nlp: Language) -> Iterator[Example]:
            report = ConversionReport(strict=strict)
            docs = load_docs(
                parse, path, nlp, report, label_map=label_map,
                annotated_labels=annotated_labels, corpus=corpus, limit=limit, **options,
            )
            for doc in docs:
                yield Example(nlp.make_doc(doc.text), doc)

        return read

    create_reader.__name__ = create_reader.__qualname__ = name
    create_reader.__module__ = parse.__module__
    create_reader.__doc__ = READER_DOC.format(source=source)
    return create_reader


READER_DOC = """Registered reader: training Examples straight from {source}.

    path (Path): {source}.
    label_map (Optional[Dict[str, str]]): Extra type -> label mappings.
    annotated_labels (Optional[Sequence[str]]): Labels the corpus annotates fully.
    corpus (Optional[str]): Corpus name stored on each Doc (default: file stem).
    strict (bool): Raise on recoverable problems instead of counting them.
    limit (int): Read only the first N documents (0 = all).
    """


def load_docs(
    parse: Callable[..., Iterable[RawDocument]],
    path: PathLike,
    nlp: Language,
    report: ConversionReport,
    *,
    label_map: Optional[Dict[str, str]] = None,
    annotated_labels: Optional[Sequence[str]] = None,
    corpus: Optional[str] = None,
    limit: int = 0,
    **options: object,
) -> List[Doc]:
    """Parse a file with ``parse`` and build its Docs.

    annotated_labels: the labels this corpus annotates completely (default: those
        that occur in the file). Multi-corpus NER uses them to avoid treating a
        label the corpus never annotates as "not an entity".
    limit: keep only the first ``limit`` documents (0 = all).
    """
    raws, labels = parse_raws(parse, path, report, label_map=label_map,
                              annotated_labels=annotated_labels, limit=limit, **options)
    corpus = corpus or Path(path).stem
    return list(docs_from_raw(nlp, raws, report, corpus=corpus, annotated_labels=labels))


def parse_raws(
    parse: Callable[..., Iterable[RawDocument]],
    path: PathLike,
    report: ConversionReport,
    *,
    label_map: Optional[Dict[str, str]] = None,
    annotated_labels: Optional[Sequence[str]] = None,
    limit: int = 0,
    **options: object,
) -> Tuple[List[RawDocument], Tuple[str, ...]]:
    """Parse a file into raw documents (the first ``limit``, 0 = all) and the labels
    the corpus annotates (``annotated_labels`` or, by default, those in the file)."""
    raws = list(parse(path, label_map=label_map, report=report, **options))
    if limit:
        raws = raws[:limit]
    labels = tuple(annotated_labels) if annotated_labels else observed_labels(raws)
    return raws, labels
