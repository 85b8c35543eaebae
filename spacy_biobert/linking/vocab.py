"""Readers for the vocabularies a linking KB is built from.

- MeSH descriptors (``ID<TAB>name<TAB>synonyms|…<TAB>tree numbers|…``): chemicals from
  the D tree, diseases from the C tree and F03 (mental disorders);
- MeSH supplementary concepts (``ID<TAB>name<TAB>synonyms|…<TAB>mapped descriptors|…``):
  a disease when a mapped descriptor is a disease, else a chemical;
- MeSH organisms: descriptors of the B01-B04 trees (eukaryota, archaea, bacteria,
  viruses) that name an NCBI Taxonomy taxon (fifth column), for the species dictionary;
- CTD MEDIC (``ID[|ID…]||name|synonym…``): diseases, MeSH and OMIM ids of one concept;
- the training split of a PubTator corpus: mention text -> id counts (aliases, priors).

Every malformed line raises :class:`VocabError` naming the file and the line.
"""
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple, Union

from ..labels import CHEMICAL, DISEASE, SPECIES
from .ids import namespace_id, namespace_ids

PathLike = Union[str, Path]
DISEASE_TREES = ("C", "F03")
ORGANISM_TREES = ("B01", "B02", "B03", "B04")


class VocabError(ValueError):
    """A vocabulary or KB file that cannot be read, with its file and line."""

    def __init__(self, message: str, *, path: PathLike, line: Optional[int] = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


@dataclass
class Concept:
    """One vocabulary entry: its id, label, names and equivalent ids (MEDIC)."""

    id: str
    label: str
    name: str
    synonyms: List[str] = field(default_factory=list)
    alt_ids: Tuple[str, ...] = ()


def _lines(path: PathLike) -> Iterator[Tuple[int, str]]:
    file = Path(path)
    if not file.is_file():
        raise VocabError("vocabulary file not found", path=path)
    with file.open(encoding="utf8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if line.strip():
                yield number, line


def _split(value: str) -> List[str]:
    return [v.strip() for v in value.split("|") if v.strip()]


def _mesh_row(path: PathLike, number: int, line: str, kind: str) -> List[str]:
    cols = line.split("\t")
    if len(cols) < 3 or not cols[0].strip() or not cols[1].strip():
        raise VocabError(f"malformed {kind} line: expected ID<TAB>name<TAB>synonyms<TAB>…, "
                         f"got {len(cols)} column(s)", path=path, line=number)
    raw = cols[0].strip()
    if namespace_id(raw) == raw:
        raise VocabError(f"malformed {kind} line: {raw!r} is not a MeSH id", path=path,
                         line=number)
    return cols + [""] * (4 - len(cols))


def descriptor_label(trees: Iterable[str]) -> Optional[str]:
    """DISEASE for the C tree and F03, CHEMICAL for the D tree, else None."""
    trees = list(trees)
    if any(t.startswith(DISEASE_TREES) for t in trees):
        return DISEASE
    if any(t.startswith("D") for t in trees):
        return CHEMICAL
    return None


def read_mesh_descriptors(path: PathLike) -> Iterator[Tuple[Concept, List[str]]]:
    """Descriptors with a chemical or disease tree, each with its tree numbers."""
    for number, line in _lines(path):
        cols = _mesh_row(path, number, line, "MeSH descriptor")
        trees = _split(cols[3])
        label = descriptor_label(trees)
        if label is not None:
            yield Concept(namespace_id(cols[0]), label, cols[1].strip(), _split(cols[2])), trees


def read_mesh_organisms(path: PathLike) -> Iterator[Concept]:
    """Organism descriptors that name a taxon (an NCBI Taxonomy id in the fifth
    column, as ``alt_ids``): "Pseudomonas aeruginosa", "Sheep", not "Animals, Domestic"."""
    for number, line in _lines(path):
        cols = _mesh_row(path, number, line, "MeSH descriptor")
        taxa = _split(cols[4]) if len(cols) > 4 else []
        if taxa and any(t.startswith(ORGANISM_TREES) for t in _split(cols[3])):
            yield Concept(namespace_id(cols[0]), SPECIES, cols[1].strip(), _split(cols[2]),
                          tuple(f"NCBITaxon:{t}" for t in taxa))


def read_mesh_supplementary(path: PathLike, descriptor_labels: Dict[str, str]
                            ) -> Iterator[Concept]:
    """Supplementary concepts; the label follows the mapped descriptors (default chemical).

    descriptor_labels (Dict[str, str]): Namespaced descriptor id -> label.
    """
    for number, line in _lines(path):
        cols = _mesh_row(path, number, line, "MeSH supplementary")
        mapped = [descriptor_labels.get(namespace_id(d)) for d in _split(cols[3])]
        label = DISEASE if DISEASE in mapped else CHEMICAL
        yield Concept(namespace_id(cols[0]), label, cols[1].strip(), _split(cols[2]))


def read_medic(path: PathLike) -> Iterator[Concept]:
    """MEDIC concepts; the MeSH id (when there is one) is the concept's id."""
    for number, line in _lines(path):
        ids_part, sep, names_part = line.partition("||")
        ids = namespace_ids(ids_part.split("|"))
        names = _split(names_part)
        if not sep or not ids or not names:
            raise VocabError("malformed MEDIC line: expected ID[|ID…]||name[|synonym…]",
                             path=path, line=number)
        if ids_part in ("C", "F03"):  # the tree's root ("Diseases"), no concept
            continue
        bad = [i for i in ids if not i.startswith(("MESH:", "OMIM:"))]
        if bad:
            raise VocabError(f"malformed MEDIC line: {bad[0]!r} is neither a MeSH nor an "
                             "OMIM id", path=path, line=number)
        ordered = sorted(ids, key=lambda i: not i.startswith("MESH:"))
        yield Concept(ordered[0], DISEASE, names[0], names[1:], tuple(ordered[1:]))


def read_training_aliases(paths: Iterable[PathLike],
                          label_map: Optional[Dict[str, str]] = None
                          ) -> Dict[Tuple[str, str], Counter]:
    """Mention text -> id counts from annotated training files (PubTator).

    paths (Iterable[PathLike]): Training-split PubTator files only.
    label_map (Optional[Dict[str, str]]): Extra corpus type -> label mappings.
    RETURNS (Dict[Tuple[str, str], Counter]): (label, text) -> Counter of id strings
        (namespaced ids of one mention joined by ``|``).
    """
    # Imported here: the corpus readers import this package's id convention.
    from ..corpora.base import CorpusError
    from ..corpora.pubtator import parse_pubtator

    counts: Dict[Tuple[str, str], Counter] = {}
    for path in paths:
        try:
            for raw in parse_pubtator(path, label_map=label_map):
                for mention in raw.mentions:
                    ids = namespace_ids(mention.ids)
                    if ids and mention.label in (CHEMICAL, DISEASE):
                        key = (mention.label, mention.text)
                        counts.setdefault(key, Counter())["|".join(ids)] += 1
        except CorpusError as err:
            raise VocabError(str(err), path=path) from err
    return counts
