"""What every reader produces and counts: raw records, located errors, the report.

A reader parses its format into :class:`RawDocument` records (text, character-offset
mentions, relations, where each came from); :mod:`.base` turns them into Docs.
"""
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from ..counts import RunCounts, sorted_counts

logger = logging.getLogger("spacy_biobert.corpora")

PathLike = Union[str, Path]


class CorpusError(ValueError):
    """Bad input in a corpus file, located by file, line and document id."""

    def __init__(
        self,
        message: str,
        *,
        path: Optional[PathLike] = None,
        line: Optional[int] = None,
        doc_id: Optional[str] = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.doc_id = doc_id
        self.message = message
        super().__init__(format_location(path, line, doc_id) + message)


def format_location(
    path: Optional[PathLike], line: Optional[int] = None, doc_id: Optional[str] = None
) -> str:
    parts = []
    if path is not None:
        parts.append(f"{path}:{line}" if line is not None else str(path))
    if doc_id is not None:
        parts.append(f"document {doc_id}")
    return (", ".join(parts) + ": ") if parts else ""


@dataclass
class ConversionReport(RunCounts):
    """Counts of what a conversion produced, repaired and warned about.

    strict (bool): Turn every warning into a :class:`CorpusError`.
    """

    strict: bool = False
    docs: int = 0
    sentences: int = 0
    mentions: int = 0
    aligned: int = 0
    repaired: int = 0
    source_types: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)
    ignored: Counter = field(default_factory=Counter)

    def warn(
        self,
        kind: str,
        message: str,
        *,
        path: Optional[PathLike] = None,
        line: Optional[int] = None,
        doc_id: Optional[str] = None,
    ) -> None:
        """Count a recoverable problem, or raise it when ``strict``."""
        if self.strict:
            raise CorpusError(f"{message} [{kind}; raised because of --strict]",
                              path=path, line=line, doc_id=doc_id)
        self.warnings[kind] += 1
        text = format_location(path, line, doc_id) + message
        self.note(f"[{kind}] {text}")
        logger.warning("%s", text)

    @property
    def alignment_rate(self) -> float:
        """Share of gold mentions whose offsets fell exactly on token boundaries."""
        return self.aligned / self.mentions if self.mentions else 1.0

    def to_dict(self) -> Dict[str, object]:
        return {
            "docs": self.docs,
            "sentences": self.sentences,
            "mentions": self.mentions,
            "aligned": self.aligned,
            "alignment_rate": round(self.alignment_rate, 6),
            "repaired": self.repaired,
            "entities": sorted_counts(self.entities),
            "source_types": sorted_counts(self.source_types),
            "relations": sorted_counts(self.relations),
            "warnings": sorted_counts(self.warnings),
            "ignored_types": sorted_counts(self.ignored),
        }


@dataclass
class RawMention:
    """A mention as a corpus states it (character offsets into the document text)."""

    start: int
    end: int
    text: str
    source_type: str
    label: str
    ids: Tuple[str, ...] = ()
    line: Optional[int] = None
    key: Optional[str] = None  # format-specific handle, e.g. a BRAT "T3"


@dataclass
class RawRelation:
    """A relation as a corpus states it: between entity ids or between mention keys."""

    label: str
    head: str
    tail: str
    between: str = "entities"  # "entities" (ids, BC5CDR CID) or "mentions" (keys, BRAT)
    line: Optional[int] = None


@dataclass
class RawDocument:
    """One document parsed from a corpus file, before tokenization."""

    doc_id: str
    text: str
    path: PathLike
    line: Optional[int] = None
    mentions: List[RawMention] = field(default_factory=list)
    relations: List[RawRelation] = field(default_factory=list)
    #: Character offsets where a section or given sentence starts (title/abstract,
    #: BioC passages, IOB sentences).
    section_starts: List[int] = field(default_factory=list)
    #: Sentence boundaries are given by the corpus (IOB): no rule-based splitting.
    sentences_given: bool = False
