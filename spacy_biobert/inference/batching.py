"""Runs a padded batch of transformer windows in groups of similar length.

spacy-transformers pads every window of a batch to its longest one; an abstract's
windows differ in word pieces, so a good part of what the transformer computes is
padding. The optimized runtimes sort the windows by length and run them in groups of
at most :data:`GROUP_TOKENS` padded word pieces, each cut to its own longest window,
then put the outputs back in the batch's order and shape (zeros where padding was).
"""
from typing import Callable, Dict, List, Optional

import numpy

#: Padded word pieces per run of the optimized transformer.
GROUP_TOKENS = 512

Arrays = Dict[str, numpy.ndarray]


def length_groups(lengths: numpy.ndarray, max_tokens: int) -> List[numpy.ndarray]:
    """Row indices in groups, longest rows first, each group's rows x its longest row
    at most ``max_tokens`` (a longer row is a group of its own)."""
    order = numpy.argsort(-lengths, kind="stable")
    groups = []
    start = 0
    while start < len(order):
        width = max(1, int(lengths[order[start]]))
        size = max(1, max_tokens // width)
        groups.append(order[start:start + size])
        start += size
    return groups


def right_padded(mask: numpy.ndarray, lengths: numpy.ndarray) -> bool:
    """Whether every row's unmasked positions come first (so cutting the tail loses
    nothing)."""
    positions = numpy.arange(mask.shape[1])[None, :]
    return bool(((positions < lengths[:, None]) == mask.astype(bool)).all())


def run_by_length(inputs: Arrays, run: Callable[[Arrays], Arrays],
                  max_tokens: Optional[int] = None) -> Arrays:
    """``run``'s outputs for the whole batch ``inputs``, computed group by group.

    inputs (Dict[str, numpy.ndarray]): ``(batch, sequence)`` arrays, ``attention_mask``
        among them.
    run (Callable): Runs the transformer on such arrays; returns its outputs by name,
        ``(batch, sequence, width)`` or ``(batch, width)``.
    max_tokens (Optional[int]): Padded word pieces per run; None: :data:`GROUP_TOKENS`.
    RETURNS (Dict[str, numpy.ndarray]): The outputs, shaped as for the whole batch.
    """
    mask = inputs["attention_mask"]
    lengths = mask.sum(axis=1)
    batch, seq = mask.shape
    if batch <= 1 or not right_padded(mask, lengths):
        return run(inputs)
    merged: Arrays = {}
    for rows in length_groups(lengths, GROUP_TOKENS if max_tokens is None else max_tokens):
        width = max(1, int(lengths[rows[0]]))
        outputs = run({name: value[rows, :width] for name, value in inputs.items()})
        for name, value in outputs.items():
            if name not in merged:
                shape = (batch, seq) + value.shape[2:] if value.ndim == 3 else \
                    (batch,) + value.shape[1:]
                merged[name] = numpy.zeros(shape, dtype=value.dtype)
            if value.ndim == 3:
                merged[name][rows, :width] = value
            else:
                merged[name][rows] = value
    return merged
