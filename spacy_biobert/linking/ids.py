"""One identifier convention for linked concepts: ``NAMESPACE:LOCAL``.

| source                         | raw form in files      | namespaced         |
|--------------------------------|------------------------|--------------------|
| MeSH descriptor                | ``D008094``            | ``MESH:D008094``   |
| MeSH supplementary concept     | ``C012345``            | ``MESH:C012345``   |
| OMIM (MEDIC, NCBI Disease)     | ``123456``, ``OMIM:123456`` | ``OMIM:123456`` |

The corpus readers keep the ids as the files write them (``D008094``); everything in
:mod:`spacy_biobert.linking` (the KB, ``ent.kb_id_`` from the linker, evaluation)
compares ids only after :func:`namespace_id`.
"""
import re
from typing import Iterable, Tuple

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
