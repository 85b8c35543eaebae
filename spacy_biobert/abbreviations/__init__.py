"""Abbreviation detection: ``long form (SF)`` definitions and the later uses of ``SF``.

- :mod:`.candidates`: bracket candidates, in one pass over the text;
- :mod:`.matching`: Schwartz & Hearst character matching and Ab3P-style strategies;
- :mod:`.detector`: definitions in a text, short forms and long forms in a Doc;
- :mod:`.storage`: ``doc._.abbreviations`` / ``span._.long_form`` and how they are kept;
- :mod:`.component`: the ``biobert_abbreviation_detector`` factory;
- :mod:`.gold` / :mod:`.evaluation`: pairs derived from BC5CDR and NCBI Disease, scores.
"""
from .detector import Abbreviation, Definition, DetectionStats, detect, find_definitions

__all__ = ["Abbreviation", "Definition", "DetectionStats", "detect", "find_definitions"]
