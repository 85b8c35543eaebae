"""The optimized transformer runs a batch's windows in groups of similar length: the
groups cover every window once, stay under the token budget, and give the outputs the
whole padded batch gives."""
from pathlib import Path
from typing import Callable, Dict

import numpy
import pytest
import spacy
from spacy.language import Language

from spacy_biobert import optimize
from spacy_biobert.extras import has_module
from spacy_biobert.inference import batching
from spacy_biobert.inference.batching import length_groups, right_padded, run_by_length

Arrays = Dict[str, numpy.ndarray]


def padded_batch(lengths, seq: int) -> Arrays:
    rng = numpy.random.default_rng(0)
    mask = (numpy.arange(seq)[None, :] < numpy.asarray(lengths)[:, None]).astype("int64")
    ids = rng.integers(5, 100, mask.shape) * mask
    return {"input_ids": ids, "attention_mask": mask}


def masked_cumsum(calls: list) -> Callable[[Arrays], Arrays]:
    """A stand-in transformer whose output at a position depends on the unmasked
    inputs only (so it is the same whatever the padding); it records each call's shape."""
    def run(feed: Arrays) -> Arrays:
        calls.append(feed["input_ids"].shape)
        ids = (feed["input_ids"] * feed["attention_mask"]).astype("float32")
        hidden = numpy.stack([numpy.cumsum(ids, axis=1), ids], axis=-1)
        return {"last_hidden_state": hidden * feed["attention_mask"][..., None],
                "pooler_output": ids.sum(axis=1, keepdims=True)}
    return run


def test_groups_cover_each_row_once_within_the_budget() -> None:
    lengths = numpy.asarray([30, 5, 120, 64, 64, 7, 200, 0])
    groups = length_groups(lengths, max_tokens=128)
    rows = numpy.concatenate(groups)
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    for group in groups:
        longest = max(1, int(lengths[group].max()))
        assert len(group) == 1 or len(group) * longest <= 128
        assert int(lengths[group[0]]) == int(lengths[group].max())  # longest first
    assert [int(lengths[g[0]]) for g in groups] == sorted(
        (int(lengths[g[0]]) for g in groups), reverse=True)


def test_grouped_outputs_equal_the_whole_batch() -> None:
    inputs = padded_batch([3, 17, 9, 17, 1, 12], seq=20)
    whole_calls: list = []
    grouped_calls: list = []
    whole = masked_cumsum(whole_calls)(inputs)
    grouped = run_by_length(inputs, masked_cumsum(grouped_calls), max_tokens=24)
    assert set(grouped) == set(whole)
    for name in whole:
        assert grouped[name].shape == whole[name].shape
        numpy.testing.assert_array_equal(grouped[name], whole[name])
    assert len(grouped_calls) > 1
    assert sum(rows * width for rows, width in grouped_calls) < 6 * 20  # less padding
    assert max(width for _, width in grouped_calls) == 17


def test_left_padded_batch_runs_as_it_is() -> None:
    inputs = padded_batch([4, 6], seq=6)
    inputs["attention_mask"] = inputs["attention_mask"][:, ::-1].copy()
    assert not right_padded(inputs["attention_mask"], inputs["attention_mask"].sum(axis=1))
    calls: list = []
    run_by_length(inputs, masked_cumsum(calls), max_tokens=4)
    assert calls == [(2, 6)]


@pytest.mark.parametrize("precision", [
    "int8", pytest.param("onnx", marks=pytest.mark.skipif(
        not has_module("onnxruntime") or not has_module("onnx"),
        reason="onnxruntime/onnx not installed"))])
def test_optimized_pipeline_predicts_the_same_in_small_groups(
        trained_nlp: Language, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        precision: str) -> None:
    trained_nlp.to_disk(tmp_path / "fp32")
    nlp = optimize(spacy.load(tmp_path / "fp32"), precision)
    texts = ["Lithium and aspirin were given .", "BRCA1 is mutated in tumours .",
             "Rats given cocaine died after lithium and aspirin in tumours .", "BRCA1 ."]
    monkeypatch.setattr(batching, "GROUP_TOKENS", 10**9)  # one group: the padded batch
    whole = list(nlp.pipe(texts))
    monkeypatch.setattr(batching, "GROUP_TOKENS", 8)
    n_groups = []

    def spy(lengths: numpy.ndarray, max_tokens: int) -> list:
        groups = length_groups(lengths, max_tokens)
        n_groups.append(len(groups))
        return groups

    monkeypatch.setattr(batching, "length_groups", spy)
    grouped = list(nlp.pipe(texts))
    assert max(n_groups) > 1
    tolerance = 1e-4 if precision == "onnx" else 0.15
    for a, b in zip(whole, grouped):
        assert [(e.text, e.label_) for e in a.ents] == [(e.text, e.label_) for e in b.ents]
        # Padding positions differ (zeros when grouped) and no token reads them.
        mask = numpy.asarray(a._.trf_data.wordpieces.attention_mask).astype(bool)
        numpy.testing.assert_allclose(
            numpy.asarray(b._.trf_data.model_output.last_hidden_state)[mask],
            numpy.asarray(a._.trf_data.model_output.last_hidden_state)[mask], atol=tolerance)
