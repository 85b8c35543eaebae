"""The unlabeled pretraining text, built from public token-per-line corpus files.

``python -m spacy_biobert pretrain-text`` reads IOB files (the token is the first column,
sentences end at blank lines; tags are ignored), joins each sentence's tokens by single
spaces with no space before closing or after opening punctuation, and writes one
sentence a line:

- a sentence seen before is dropped (``duplicates``), so repeated boilerplate does not
  weigh more than once;
- a sentence that also occurs in a labelled corpus file (``--exclude``: the train and dev
  DocBins) is dropped (``overlap``), so that adapting the transformer never shows it
  dev sentences and the unlabeled text does not repeat the training splits.

Sentences are compared without white space, so a labelled corpus tokenized differently
(PubTator's raw text, IOB tokens) still matches.
"""
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Sequence, Set

from ..corpora.base import read_text
from ..corpora.conll import iob_sentences
from .data import docbin_texts

#: Tokens written without a space before them / after them.
NO_SPACE_BEFORE = frozenset(").,;:!?%]}")
NO_SPACE_AFTER = frozenset("([{")
_WHITE = re.compile(r"\s+")
COUNTS = ("sentences", "duplicates", "overlap", "written", "excluded_sentences")


@dataclass
class TextBuild:
    """What building the text read, dropped and wrote.

    ``counts``: ``sentences`` read, ``duplicates`` and ``overlap`` (in a labelled file)
    dropped, ``written``, and ``excluded_sentences`` (distinct labelled sentences).
    """

    files: List[str] = field(default_factory=list)
    counts: Counter = field(default_factory=lambda: Counter(dict.fromkeys(COUNTS, 0)))

    def to_dict(self) -> Dict[str, Any]:
        return {"files": self.files, **self.counts}


def join_tokens(tokens: Sequence[str]) -> str:
    """Tokens joined by single spaces, none before closing or after opening punctuation."""
    parts: List[str] = []
    for token in tokens:
        if parts and token not in NO_SPACE_BEFORE and parts[-1] not in NO_SPACE_AFTER:
            parts.append(" ")
        parts.append(token)
    return "".join(parts)


def sentence_key(text: str) -> str:
    """What two sentences must share to count as the same one: their non-space characters."""
    return _WHITE.sub("", text)


def source_files(paths: Iterable[Path]) -> List[Path]:
    """The files named, and the ``*.tsv`` files (sorted) of the folders named."""
    files: List[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.tsv")) if path.is_dir() else [path])
    return files


def iob_texts(path: Path) -> Iterator[str]:
    """The sentences of an IOB file, as text."""
    for sentence in iob_sentences(path, read_text(path)):
        yield join_tokens([token for token, _, _ in sentence])


def build_pretraining_text(sources: Sequence[Path], output: Path, *,
                           exclude: Sequence[Path] = ()) -> TextBuild:
    """Write the deduplicated sentences of ``sources`` that no ``exclude`` file holds.

    sources (Sequence[Path]): IOB files, or folders of ``*.tsv`` IOB files.
    output (Path): The text file to write (one sentence a line, UTF-8).
    exclude (Sequence[Path]): Labelled ``.spacy`` DocBins whose sentences are left out.
    RETURNS (TextBuild): Counts of what was read, dropped and written.
    """
    build = TextBuild()
    excluded: Set[str] = set()
    for path in exclude:
        for _, text in docbin_texts(path):
            excluded.add(sentence_key(text))
    build.counts["excluded_sentences"] = len(excluded)
    seen: Set[str] = set()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    with tmp.open("w", encoding="utf8") as out:
        for path in source_files(sources):
            build.files.append(str(path))
            for text in iob_texts(path):
                key = sentence_key(text)
                kind = ("overlap" if key in excluded else "duplicates" if key in seen
                        else "written")
                build.counts["sentences"] += 1
                build.counts[kind] += 1
                if kind == "written":
                    seen.add(key)
                    out.write(text + "\n")
    tmp.replace(output)
    return build


__all__ = ["TextBuild", "build_pretraining_text", "join_tokens", "sentence_key"]
