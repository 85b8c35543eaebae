"""One identifier convention for linked concepts: ``NAMESPACE:LOCAL``.

| source                         | raw form in files      | namespaced         |
|--------------------------------|------------------------|--------------------|
| MeSH descriptor                | ``D008094``            | ``MESH:D008094``   |
| MeSH supplementary concept     | ``C012345``            | ``MESH:C012345``   |
| OMIM (MEDIC, NCBI Disease)     | ``123456``, ``OMIM:123456`` | ``OMIM:123456`` |

Gold ids get the same form when a corpus is converted (:func:`gold_ids`, used by
:func:`spacy_biobert.corpora.base.build_doc` for ``ent.kb_id_``, ``ent._.kb_ids`` and
the ids of entity relations such as BC5CDR's CID rows), so gold and linked ids, and
gold and predicted concept pairs, compare directly.
"""
import re
from typing import Iterable, Tuple

from ..labels import CHEMICAL, DISEASE

#: Labels whose ids are MeSH/OMIM concepts (the labels the linker links); ids of other
#: labels (genes, species) are kept as written, since a bare number there is no OMIM id.
LINKED_LABELS = (CHEMICAL, DISEASE)

_MESH = re.compile(r"^(?:MESH:|MeSH:|mesh:)?([CD]\d{6,9})$")
_OMIM = re.compile(r"^(?:OMIM:|omim:)?(\d{6})$")


def namespace_id(raw: str) -> str:
    """``D008094`` -> ``MESH:D008094``, ``613097``/``OMIM:613097`` -> ``OMIM:613097``.

    raw (str): An id as a corpus or vocabulary file writes it.
    RETURNS (str): The namespaced id; an id of no known form is returned stripped.
    """
    value = raw.strip()
    mesh = _MESH.match(value)
    if mesh:
        return f"MESH:{mesh.group(1)}"
    omim = _OMIM.match(value)
    if omim:
        return f"OMIM:{omim.group(1)}"
    return value


def namespace_ids(raws: Iterable[str]) -> Tuple[str, ...]:
    """:func:`namespace_id` for each id, order kept, empty ones dropped."""
    return tuple(namespace_id(r) for r in raws if r and r.strip())


def gold_ids(raws: Iterable[str], label: str) -> Tuple[str, ...]:
    """The ids of a gold mention as stored on a Doc: namespaced for :data:`LINKED_LABELS`.

    raws (Iterable[str]): The mention's ids as the corpus writes them.
    label (str): The mention's label.
    RETURNS (Tuple[str, ...]): The ids, empty ones dropped.
    """
    if label in LINKED_LABELS:
        return namespace_ids(raws)
    return tuple(r.strip() for r in raws if r and r.strip())
