"""Entities and relations as one HTML page, drawn by spaCy's displaCy.

Each document gets two views:

- the **entity view**: displaCy's ``ent`` style (``doc.ents``, coloured by label; a
  linked entity shows its id and the concept's name, linked to MeSH or OMIM);
- the **relation view**: displaCy's ``dep`` style in manual mode, where each "word" is
  a mention that takes part in a relation (its label as the tag) or the text between
  two of them (kept when short, else "…", so a whole abstract stays readable), and each
  arc is a relation from ``doc._.relations`` (mention pairs), drawn from head to tail
  with the label and score. Documents whose relations come only
  as entity pairs (``doc._.entity_relations``, e.g. BC5CDR ``CID`` gold) are drawn with
  one supporting mention pair per entity relation.

Python::

    from spacy_biobert.visualize import render_html
    html = render_html(nlp.pipe(texts))

Command line: ``python -m spacy_biobert visualize MODEL INPUT -o page.html``.
"""
import html
import json
import logging
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import typer
from spacy import displacy
from spacy.tokens import Doc, DocBin, Span
from wasabi import msg

from .extensions import install_extensions
from .labels import CHEMICAL, DISEASE, GENE, SPECIES
from .relations.items import Relation

logger = logging.getLogger(__name__)

#: Entity colours (other labels get displaCy's defaults).
COLORS: Dict[str, str] = {
    CHEMICAL: "#7aecec",
    DISEASE: "#fe8f8f",
    GENE: "#c4a7f5",
    SPECIES: "#aaffa6",
}

#: Where displaCy links a concept id (by its namespace).
CONCEPT_URLS = {"MESH": "https://meshb.nlm.nih.gov/record/ui?ui={}",
                "OMIM": "https://omim.org/entry/{}"}

#: Longest stretch of text kept between two mentions in the relation view ("…" else).
MAX_GAP_CHARS = 30


class VisualizeError(ValueError):
    """Input that cannot be visualized; the message names the file and line."""


def entity_data(doc: Doc) -> Dict[str, Any]:
    """displaCy's manual ``ent`` data for ``doc.ents``.

    doc (Doc): An annotated document.
    RETURNS (Dict[str, Any]): ``{"text", "ents", "title"}`` for ``displacy.render``.
    """
    ents = [{"start": e.start_char, "end": e.end_char, "label": e.label_, **_concept(e)}
             for e in doc.ents]
    return {"text": doc.text, "ents": ents, "title": _title(doc)}


def _concept(ent: Span) -> Dict[str, str]:
    """displaCy's ``kb_id`` (the id and the concept's preferred name) and ``kb_url``."""
    if not ent.kb_id_:
        return {}
    name = ent._.kb_name if Span.has_extension("kb_name") else None
    namespace, _, local = ent.kb_id_.partition(":")
    url = CONCEPT_URLS.get(namespace, "#").format(local)
    return {"kb_id": f"{ent.kb_id_} {name}" if name else ent.kb_id_, "kb_url": url}


def doc_relations(doc: Doc) -> List[Relation]:
    """The mention-pair relations drawn for ``doc``.

    ``doc._.relations`` when there are any, else one supporting mention pair for each
    ``doc._.entity_relations`` item (entity pairs without mentions are skipped).
    """
    install_extensions()
    relations = list(doc._.relations)
    if relations:
        return relations
    out = []
    for rel in doc._.entity_relations:
        if rel.mentions:
            head, tail = rel.mentions[0]
            out.append(Relation(head, tail, rel.label, rel.score))
    return out


def relation_data(doc: Doc, *, show_scores: bool = True) -> Optional[Dict[str, Any]]:
    """displaCy's manual ``dep`` data: mentions as words, relations as arcs.

    doc (Doc): An annotated document.
    show_scores (bool): Append the score to an arc's label when it is below 1.
    RETURNS (Optional[Dict[str, Any]]): ``{"words", "arcs"}``, or None without relations.
    """
    relations = doc_relations(doc)
    if not relations:
        return None
    mentions = _mention_chunks(doc, relations)
    words: List[Dict[str, str]] = []
    index: Dict[Tuple[int, int], int] = {}
    cursor = 0
    for span in mentions:
        gap = doc[cursor:span.start].text
        if gap.strip() and (cursor > 0 or len(gap) <= MAX_GAP_CHARS):
            words.append({"text": _shorten(gap), "tag": ""})
        index[(span.start, span.end)] = len(words)
        words.append({"text": span.text, "tag": span.label_})
        cursor = span.end
    tail_text = doc[cursor:].text
    if tail_text.strip():
        words.append({"text": _shorten(tail_text), "tag": ""})
    arcs = []
    skipped = 0
    for rel in relations:
        head = index.get((rel.head.start, rel.head.end))
        tail = index.get((rel.tail.start, rel.tail.end))
        if head is None or tail is None or head == tail:
            skipped += 1
            continue
        label = rel.label
        if show_scores and rel.score < 1.0:
            label = f"{label} {rel.score:.2f}"
        start, end = sorted((head, tail))
        # displaCy points the arrow at `end` for "right" and at `start` for "left":
        # the arrow always points at the relation's tail.
        arcs.append({"start": start, "end": end, "label": label,
                     "dir": "right" if head < tail else "left"})
    if skipped:
        logger.info("%s: %d relation(s) not drawn (mentions overlap another mention)",
                    _title(doc), skipped)
    return {"words": words, "arcs": arcs}


def render_doc(doc: Doc, *, show_scores: bool = True) -> str:
    """HTML of one document: the entity view, then the relation view (if any).

    doc (Doc): An annotated document.
    show_scores (bool): Show scores below 1 on the arcs.
    RETURNS (str): An HTML fragment (no page around it).
    """
    parts = [f'<section class="spacy-biobert-doc" data-doc="{html.escape(_title(doc))}">']
    parts.append(displacy.render(entity_data(doc), style="ent", manual=True, page=False,
                                 options={"colors": COLORS}))
    rel = relation_data(doc, show_scores=show_scores)
    if rel is not None and rel["arcs"]:
        parts.append('<div class="spacy-biobert-relations">')
        # displaCy spaces words evenly: make room for the longest one (~8 px a letter).
        longest = max(len(w["text"]) for w in rel["words"])
        distance = max(110, min(320, 8 * longest + 30))
        parts.append(displacy.render(rel, style="dep", manual=True, page=False,
                                     options={"compact": True, "distance": distance,
                                              "offset_x": max(60, distance // 2 + 10),
                                              "word_spacing": 30}))
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def render_html(docs: Iterable[Doc], *, title: str = "spacy-biobert",
                show_scores: bool = True) -> str:
    """A standalone HTML page with every document's entities and relations.

    docs (Iterable[Doc]): Annotated documents (e.g. ``nlp.pipe(texts)``).
    title (str): The page title.
    show_scores (bool): Show scores below 1 on the arcs.
    RETURNS (str): The page.
    """
    body = "\n<hr>\n".join(render_doc(doc, show_scores=show_scores) for doc in docs)
    return PAGE.format(title=html.escape(title), body=body)


def save_html(docs: Iterable[Doc], path: Path, **kwargs: Any) -> Path:
    """Write :func:`render_html` of ``docs`` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(docs, **kwargs), encoding="utf8")
    return path


def read_texts(path: Path) -> Iterator[Tuple[str, Optional[str]]]:
    """(text, id) pairs from a text file (one document per non-empty line) or JSONL.

    JSONL lines are objects with ``"text"`` and optionally ``"id"``/``"doc_id"``.
    Raises :class:`VisualizeError` naming the file and line on bad input.
    """
    path = Path(path)
    is_jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    try:
        lines = path.read_text(encoding="utf8").splitlines()
    except UnicodeDecodeError as err:
        raise VisualizeError(f"{path}: not UTF-8 text ({err})") from err
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not is_jsonl:
            yield line, f"{path.name}:{number}"
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise VisualizeError(f"{path}, line {number}: invalid JSON ({err.msg})") from err
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise VisualizeError(f"{path}, line {number}: expected an object with a "
                                 '"text" string')
        doc_id = record.get("id", record.get("doc_id"))
        yield record["text"], (str(doc_id) if doc_id is not None else f"{path.name}:{number}")


def load_docs(nlp: Any, path: Path, *, gold: bool = False, limit: int = 0,
              batch_size: int = 8) -> List[Doc]:
    """Documents to draw from a text file, JSONL or ``.spacy`` file.

    Text and JSONL are annotated by ``nlp``; a ``.spacy`` file is annotated by ``nlp``
    too (its texts), unless ``gold`` asks for its stored annotations.
    """
    install_extensions()
    path = Path(path)
    if not path.is_file():
        raise VisualizeError(f"{path}: no such file")
    if path.suffix.lower() == ".spacy":
        try:
            stored = list(DocBin().from_disk(path).get_docs(nlp.vocab))
        except Exception as err:  # DocBin raises several types on a corrupt file
            raise VisualizeError(f"{path}: not a readable .spacy DocBin ({err})") from err
        if limit:
            stored = stored[:limit]
        if gold:
            return stored
        items = [(doc.text, doc._.doc_id) for doc in stored]
    else:
        if gold:
            raise VisualizeError(f"{path}: --gold needs a .spacy file")
        items = list(read_texts(path))
        if limit:
            items = items[:limit]
    if not items:
        raise VisualizeError(f"{path}: no documents")
    docs = []
    for doc, doc_id in nlp.pipe(items, as_tuples=True, batch_size=batch_size):
        doc._.doc_id = doc_id
        docs.append(doc)
    return docs


def visualize_cmd(
    model: str = typer.Argument(..., help="Pipeline name or path (e.g. en_biobert_ner)"),
    input_path: Path = typer.Argument(..., metavar="INPUT",
                                      help="Text file (one document a line), .jsonl or .spacy"),
    output: Path = typer.Option(Path("page.html"), "--output", "-o", help="HTML page to write"),
    gold: bool = typer.Option(False, "--gold",
                              help=".spacy input: draw its stored annotations, not predictions"),
    limit: int = typer.Option(20, "--limit", help="Documents to draw (0 = all)"),
    no_scores: bool = typer.Option(False, "--no-scores", help="Hide scores on relation arcs"),
) -> None:
    """Draw entities and relation arcs with displaCy into one HTML page."""
    import spacy

    try:
        nlp = spacy.load(model)
    except OSError as err:
        msg.fail(f"Cannot load pipeline {model}", str(err), exits=1)
        return
    try:
        docs = load_docs(nlp, input_path, gold=gold, limit=limit)
    except VisualizeError as err:
        msg.fail("Cannot visualize", str(err), exits=1)
        return
    save_html(docs, output, title=f"{model}: {input_path.name}", show_scores=not no_scores)
    n_ents = sum(len(doc.ents) for doc in docs)
    n_rels = sum(len(doc_relations(doc)) for doc in docs)
    msg.good(f"Wrote {output} ({len(docs)} documents, {n_ents} entities, {n_rels} relations)")


def _title(doc: Doc) -> str:
    doc_id = doc._.doc_id if Doc.has_extension("doc_id") else None
    return str(doc_id) if doc_id else doc.text[:60]


def _shorten(text: str, limit: int = MAX_GAP_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "…"


def _mention_chunks(doc: Doc, relations: Sequence[Relation]) -> List[Span]:
    """The mentions that take part in a relation, in text order, without overlaps."""
    spans: List[Span] = []
    taken: set = set()
    for rel in relations:
        for span in (rel.head, rel.tail):
            tokens = set(range(span.start, span.end))
            if tokens and not tokens & taken:
                spans.append(span)
                taken |= tokens
    return sorted(spans, key=lambda s: s.start)


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial,
        sans-serif; margin: 2em; background: #fff; color: #222; }}
.spacy-biobert-doc {{ margin-bottom: 2em; }}
.spacy-biobert-relations {{ overflow-x: auto; }}
</style>
</head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""
