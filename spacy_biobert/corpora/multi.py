"""Training data from several converted corpora at once.

Each DocBin keeps its documents' ``doc._.corpus`` and ``doc._.annotated_labels``,
which the NER heads use to learn only from the corpora that annotate their labels.
"""
import random
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Union

from spacy.language import Language
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.util import registry

from ..extensions import install_extensions


def split_paths(paths: Union[str, Path, Sequence[Union[str, Path]]]) -> List[Path]:
    """Accept a list, or one string of paths separated by spaces or commas."""
    if isinstance(paths, (str, Path)):
        items = str(paths).replace(",", " ").split()
    else:
        items = [str(p) for p in paths]
    if not items:
        raise ValueError("no corpus paths given")
    return [Path(p) for p in items]


@registry.readers("spacy-biobert.MultiCorpus.v1")
def create_multi_corpus(
    paths: Union[str, List[str]],
    *,
    limit_per_corpus: int = 0,
    sample_seed: int = 0,
    repeat: Optional[Dict[str, int]] = None,
) -> Callable[[Language], Iterator[Example]]:
    """Registered reader over several ``.spacy`` files.

    paths (Union[str, List[str]]): The files; a string may list several, separated by
        spaces or commas (handy for ``--paths.train`` overrides).
    limit_per_corpus (int): Keep N documents of each file (0 = all), sampled with
        ``sample_seed`` — e.g. a small mixed dev set for evaluation during training.
    sample_seed (int): Seed of that sample.
    repeat (Optional[Dict[str, int]]): Corpus name (``doc._.corpus``) -> how many
        times its documents appear per epoch, e.g. ``{"bc5cdr": 2}`` to give the one
        corpus with relations (and the headline NER scores) a larger share of a short
        training budget. Corpora not named appear once. A name that no document carries
        (a typo, or a file left out by a ``--paths.train`` override) is a ValueError
        naming the corpora that were seen.
    """
    repeats = dict(repeat or {})
    bad = {k: v for k, v in repeats.items() if not isinstance(v, int) or v < 1}
    if bad:
        raise ValueError(f"MultiCorpus: repeat counts must be integers >= 1, got {bad}")
    files = split_paths(paths)
    for path in files:
        if not path.exists():
            raise ValueError(f"{path}: corpus file not found (run `spacy project run convert`)")

    def read(nlp: Language) -> Iterator[Example]:
        install_extensions()
        # Every file is read before the first example is given out, so that a repeat
        # naming no corpus stops training before it starts.
        per_file = []
        for path in files:
            docs = list(DocBin(store_user_data=True).from_disk(path).get_docs(nlp.vocab))
            if limit_per_corpus and len(docs) > limit_per_corpus:
                docs = random.Random(sample_seed).sample(docs, limit_per_corpus)
            per_file.append(docs)
        seen = {doc._.corpus or "" for docs in per_file for doc in docs}
        unused = sorted(set(repeats) - seen)
        if unused:
            names = ", ".join(sorted(n or "(none)" for n in seen))
            raise ValueError(
                f"MultiCorpus: repeat names {unused}, but no document in "
                f"{', '.join(map(str, files))} belongs to it (corpora seen: {names}); "
                "remove the name from [corpora.train.repeat], e.g. "
                "--corpora.train.repeat '{}' to weigh every corpus once"
            )
        for docs in per_file:
            for doc in docs:
                for _ in range(repeats.get(doc._.corpus or "", 1)):
                    yield Example(nlp.make_doc(doc.text), doc)

    return read
