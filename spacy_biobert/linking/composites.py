"""Coordinated mentions: ``breast and ovarian cancer`` -> ``breast cancer``, ``ovarian cancer``.

A composite mention names several concepts that share a head word; corpora give it all
their ids (BC5CDR joins them with ``|``, NCBI Disease with ``+``). When a mention has no
exact alias, :func:`split_coordination` expands it so that each conjunct can be linked.
"""
import re
from typing import List

_CONJUNCTION = re.compile(r"\s*(?:,\s*(?:and|or)\s+|\band/or\b|\band\b|\bor\b|,|/)\s*")


def split_coordination(text: str) -> List[str]:
    """The conjuncts of a coordinated mention, each completed with the shared head word.

    text (str): The mention text.
    RETURNS (List[str]): Two or more conjuncts, or ``[]`` for a mention with no
        coordination (or one with an empty part).
    """
    parts = [p.strip() for p in _CONJUNCTION.split(text)]
    if len(parts) < 2 or any(not p for p in parts):
        return []
    last = parts[-1].split()
    if len(last) < 2:  # "nausea and vomiting": no shared head
        return parts
    return [p if len(p.split()) > 1 else f"{p} {last[-1]}" for p in parts[:-1]] + [parts[-1]]
