"""Corpus readers: one module per format, all producing the same kind of Doc.

| format     | module        | typical corpora                  |
|------------|---------------|----------------------------------|
| pubtator   | pubtator.py   | BC5CDR (with CID), NCBI Disease  |
| conll      | conll.py      | BC2GM, LINNAEUS (token-per-line IOB) |
| bioc       | bioc.py       | BioC XML or JSON collections     |
| brat       | brat.py       | BRAT standoff ``.txt`` + ``.ann`` |
"""
import importlib
from typing import Callable, Dict, Iterable

from .base import ConversionReport, CorpusError, RawDocument, load_docs

#: Format name -> "module:function" of its parser (imported on first use).
FORMATS: Dict[str, str] = {
    "pubtator": "spacy_biobert.corpora.pubtator:parse_pubtator",
    "conll": "spacy_biobert.corpora.conll:parse_conll",
    "bioc": "spacy_biobert.corpora.bioc:parse_bioc",
    "brat": "spacy_biobert.corpora.brat:parse_brat",
}


def get_parser(name: str) -> Callable[..., Iterable[RawDocument]]:
    """The parse function of a format, or a clear error listing the formats."""
    try:
        target = FORMATS[name.lower()]
    except KeyError:
        raise CorpusError(
            f"unknown corpus format {name!r}; choose one of: {', '.join(sorted(FORMATS))}"
        ) from None
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


__all__ = ["FORMATS", "ConversionReport", "CorpusError", "RawDocument", "get_parser", "load_docs"]
