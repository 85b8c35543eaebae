"""Domain-adaptive pretraining (spacy_biobert.pretraining) on the tiny random BERT.

Bad input (empty lines, > 10k-character lines, non-UTF-8 bytes, an existing
output folder, a model without an MLM head), whole-word dynamic masking, packing, a
killed run that resumes exactly, and the output folder as a spacy-transformers model.
"""
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Union

import numpy as np
import pytest
import spacy
from spacy.tokens import Doc, DocBin
from thinc.api import Config

from spacy_biobert.pretraining.data import (
    IGNORE_INDEX,
    PretrainDataError,
    TextStats,
    WholeWordMasker,
    pack_texts,
    parse_repeats,
    read_texts,
    split_long_text,
)
from spacy_biobert.pretraining.model import ModelLoadError, load_mlm_model
from spacy_biobert.pretraining.resolve import resolve_transformer
from spacy_biobert.pretraining.trainer import (
    PretrainError,
    PretrainSettings,
    pretrain,
)

WriteFile = Callable[[str, Union[str, bytes]], Path]

SENTENCES = [
    "aspirin reduced the fever in rats",
    "cocaine caused cardiac arrest in two patients",
    "lithium carbonate induced renal failure",
    "the brca1 gene is mutated in breast tumours",
]


def corpus_text(n: int = 40) -> str:
    return "\n".join(SENTENCES[i % len(SENTENCES)] for i in range(n)) + "\n"


def tiny_settings(**overrides: Any) -> PretrainSettings:
    values: Dict[str, Any] = dict(max_steps=6, seq_len=16, batch_size=4, save_every=2,
                                  log_every=1, heldout_every=5, head_fit_steps=3,
                                  threads=1, learning_rate=1e-3)
    values.update(overrides)
    return PretrainSettings(**values)


def run_cli(*args: str, env: Union[Dict[str, str], None] = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "spacy_biobert", "pretrain", *args],
                          capture_output=True, text=True, env=full_env, timeout=600)


KILLER = """
import os, signal, sys
import spacy_biobert.pretraining.trainer as trainer
from spacy_biobert.cli import main

save, at = trainer.save_checkpoint, int(sys.argv.pop(1))

def save_or_die(output, model, optimizer, state):
    if state.step == at:
        os.kill(os.getpid(), signal.SIGKILL)
    save(output, model, optimizer, state)

trainer.save_checkpoint = save_or_die
sys.argv[0] = "spacy_biobert"
main()
"""


def run_killed_at_checkpoint(step: int, *args: str) -> subprocess.CompletedProcess:
    """``pretrain`` in a process that SIGKILLs itself when it starts saving ``step``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", KILLER, str(step), "pretrain", *args],
                          capture_output=True, text=True, env=env, timeout=600)


TINY_ARGS = ("--seq-len", "16", "--batch-size", "4", "--save-every", "2", "--heldout-every",
             "5", "--head-fit-steps", "3", "--threads", "1", "--lr", "1e-3", "--quiet")


# --- reading text --------------------------------------------------------------------

def test_read_texts_handles_empty_long_and_bad_byte_lines(write_file: WriteFile) -> None:
    long_line = " ".join(["glucocorticoid"] * 1500)  # 22,499 characters
    content = (b"aspirin helps\n\n   \n" + long_line.encode() + b"\n"
               b"caf\xe9 au lait spots\nlast line")
    path = write_file("unlabeled.txt", content)
    stats = TextStats()
    train, heldout = read_texts([path], stats=stats, max_chars=10_000)
    assert stats.empty_lines == 2
    assert stats.split_lines == 1 and stats.bad_byte_lines == 1
    assert heldout == []
    assert train[0] == "aspirin helps"
    pieces = train[1:-2]
    assert len(pieces) == 3 and all(len(p) <= 10_000 for p in pieces)
    assert " ".join(pieces) == long_line  # split at white space, nothing lost
    assert train[-2] == "caf\ufffd au lait spots"
    assert any(f"{path}:5: invalid UTF-8" in note for note in stats.examples)
    assert any(f"{path}:4: line of 22,499 characters" in note for note in stats.examples)


def test_split_long_text_without_spaces_cuts_hard() -> None:
    assert split_long_text("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]


def test_heldout_slice_is_every_nth_line_of_the_first_file(write_file: WriteFile) -> None:
    first = write_file("a.txt", "\n".join(f"line {i}" for i in range(1, 11)))
    second = write_file("b.txt", "\n".join(f"other {i}" for i in range(1, 11)))
    train, heldout = read_texts([first, second], stats=TextStats(), heldout_every=5)
    assert heldout == ["line 5", "line 10"]
    assert "line 5" not in train and "other 5" in train and len(train) == 18


def test_repeat_weights_a_file_but_never_its_heldout_lines(write_file: WriteFile) -> None:
    first = write_file("a.txt", "\n".join(f"line {i}" for i in range(1, 11)))
    second = write_file("b.txt", "\n".join(f"other {i}" for i in range(1, 4)))
    stats = TextStats()
    repeats = parse_repeats([f"{first}=3"], [first, second])
    train, heldout = read_texts([first, second], stats=stats, heldout_every=5, repeats=repeats)
    assert heldout == ["line 5", "line 10"]
    assert "line 5" not in train and train.count("line 1") == 3 and train.count("other 1") == 1
    assert len(train) == 3 * 8 + 3 == stats.texts
    assert stats.repeats == {str(first): 3}


def test_repeat_and_duplicate_inputs_are_clear_errors(write_file: WriteFile) -> None:
    path = write_file("a.txt", "some text\n")
    for spec, match in [("a.txt", "expected PATH=N"), (f"{path}=0", "whole number"),
                        (f"{path}=two", "whole number"), (f"{path}=\u00b2", "whole number"),
                        ("other.txt=2", "not one of the inputs")]:
        with pytest.raises(PretrainDataError, match=match):
            parse_repeats([spec], [path])
    with pytest.raises(PretrainDataError, match="given twice.*--repeat"):
        read_texts([path, path], stats=TextStats())
    # The same checks guard read_texts (and pretrain) when called from Python.
    for repeats, match in [({"other.txt": 2}, "not one of the inputs"),
                           ({str(path): 0}, "whole number")]:
        with pytest.raises(PretrainDataError, match=match):
            read_texts([path], stats=TextStats(), repeats=repeats)


def test_docbin_input_gives_sentences(write_file: WriteFile, tmp_path: Path) -> None:
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["Aspirin", "helps", ".", "Rats", "died", "."],
              sent_starts=[True, False, False, True, False, False])
    DocBin(docs=[doc]).to_disk(tmp_path / "bc5cdr_train.spacy")
    train, _ = read_texts([tmp_path / "bc5cdr_train.spacy"], stats=TextStats())
    assert train == ["Aspirin helps .", "Rats died ."]


@pytest.mark.parametrize("name", ["bc5cdr_dev.txt", "devel.tsv", "CDR_TestSet.txt"])
def test_dev_and_test_files_are_refused(write_file: WriteFile, name: str) -> None:
    path = write_file(name, "some text\n")
    with pytest.raises(PretrainDataError, match="development/test split"):
        read_texts([path], stats=TextStats())
    read_texts([path], stats=TextStats(), allow_eval_text=True)


def test_empty_and_binary_files_are_clear_errors(write_file: WriteFile) -> None:
    empty = write_file("empty.txt", "\n\n  \n")
    with pytest.raises(PretrainDataError, match="no text to train on"):
        read_texts([empty], stats=TextStats())
    binary = write_file("corpus.txt.gz", (bytes(range(128, 256)) + b"\n") * 40)
    with pytest.raises(PretrainDataError, match="not valid UTF-8"):
        read_texts([binary], stats=TextStats())
    with pytest.raises(PretrainDataError, match="no such file"):
        read_texts([empty.parent / "missing.txt"], stats=TextStats())


# --- packing and masking ---------------------------------------------------------------

def test_pack_texts_fills_sequences(tiny_bert: Path) -> None:
    tokenizer, _, _ = load_mlm_model(str(tiny_bert))
    texts = ["aspirin", "rats died", "lithium"]
    seqs = pack_texts(texts, tokenizer, 8)
    stream: List[int] = []
    for text in texts:
        stream += tokenizer(text, add_special_tokens=False)["input_ids"]
        stream.append(tokenizer.sep_token_id)
    assert seqs.shape == (-(-len(stream) // 6), 8)
    assert (seqs[:, 0] == tokenizer.cls_token_id).all()
    assert (seqs[:-1, -1] == tokenizer.sep_token_id).all()
    body = seqs[:, 1:].ravel()
    body = body[body != tokenizer.pad_token_id]
    # Full sequences end in their own [SEP]: drop those, the stream is what remains.
    kept = [int(t) for i, t in enumerate(body) if (i + 1) % 7 or i == len(body) - 1]
    assert kept[: len(stream)] == stream


def test_whole_word_dynamic_masking(tiny_bert: Path) -> None:
    tokenizer, _, _ = load_mlm_model(str(tiny_bert))
    seqs = pack_texts([corpus_text(200)], tokenizer, 64)
    masker = WholeWordMasker(tokenizer, mask_prob=0.15, seed=3)
    assert masker.scheme == "wordpiece"
    index = list(range(len(seqs)))
    _, labels0 = masker.mask_batch(seqs, index, epoch=0)
    _, again = masker.mask_batch(seqs, index, epoch=0)
    _, labels1 = masker.mask_batch(seqs, index, epoch=1)
    assert (labels0 == again).all()  # a resumed run sees the same masks
    assert (labels0 != labels1).any()  # a new epoch gets new masks
    continuation = masker.continuation[seqs]
    special = masker.special[seqs]
    masked = labels0 != IGNORE_INDEX
    assert not (masked & special).any()
    # A wordpiece is masked exactly when the piece before it is, inside a word.
    inside = continuation[:, 1:] & ~special[:, :-1]
    assert (masked[:, 1:][inside] == masked[:, :-1][inside]).all()
    share = masked.sum() / (~special).sum()
    assert 0.10 < share <= 0.16


# --- models ----------------------------------------------------------------------------

def test_model_without_mlm_head_gets_one(tiny_bert: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="spacy_biobert.pretraining"):
        _, model, new_head = load_mlm_model(str(tiny_bert))
    assert "has no masked-LM head" in caplog.text
    assert any(name.startswith("cls.predictions") for name in new_head)
    # BERT's convention: the output projection is the word-embedding matrix.
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight


def test_models_that_cannot_do_mlm_are_clear_errors(tmp_path: Path) -> None:
    from transformers import GPT2Config

    GPT2Config(n_layer=1, n_embd=8, n_head=2).save_pretrained(tmp_path / "gpt2")
    with pytest.raises(ModelLoadError, match="'gpt2' has no masked-language-model head"):
        load_mlm_model(str(tmp_path / "gpt2"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_mlm_model(str(tmp_path / "empty"))


# --- training, output folder, resume ---------------------------------------------------

@pytest.fixture(scope="module")
def adapted(tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model pretrained for 30 steps on repetitive text."""
    tmp = tmp_path_factory.mktemp("adapted")
    text = tmp / "unlabeled.txt"
    text.write_text(corpus_text(100), encoding="utf8")
    out = tmp / "model"
    pretrain([text], out, base=str(tiny_bert), settings=tiny_settings(max_steps=30),
             progress=False)
    return out


def test_pretrain_writes_a_model_and_lowers_perplexity(adapted: Path) -> None:
    info = json.loads((adapted / "pretraining.json").read_text())
    assert info["steps"] == 30 and info["tokens_seen"] > 0
    ppl = info["perplexity"]
    assert ppl["after"] < ppl["before"] <= ppl["new_head"] * 1.5
    assert info["text"]["heldout_texts"] == 20 and info["heldout_sequences"] > 0
    assert info["tokenizer"]["lowercase"] is True
    for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json"):
        assert (adapted / name).exists(), name
    log = [json.loads(line) for line in (adapted / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log] == list(range(1, 31))
    assert all(row["tokens_per_s"] > 0 for row in log)


def test_adapted_model_trains_in_spacy_transformers(adapted: Path, ner_config: Config,
                                                    ner_data: Any) -> None:
    ner_config["components"]["transformer"]["model"]["name"] = str(adapted)
    nlp = spacy.util.load_model_from_config(ner_config, auto_fill=True, validate=True)
    chem, gene = ner_data.examples(nlp)
    optimizer = nlp.initialize(lambda: chem + gene)
    losses: Dict[str, float] = {}
    nlp.update(chem + gene, sgd=optimizer, losses=losses)
    assert losses["transformer"] >= 0.0 or "ner_chemical" in losses
    doc = nlp("Aspirin caused bleeding in rats .")
    assert doc._.trf_data is not None and len(doc) == 6


def test_existing_output_folders(tiny_bert: Path, tmp_path: Path, adapted: Path) -> None:
    text = tmp_path / "unlabeled.txt"
    text.write_text(corpus_text(), encoding="utf8")
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    for flags in ({}, {"overwrite": True}, {"resume": True}):
        with pytest.raises(PretrainError, match="not written by pretrain|not empty"):
            pretrain([text], other, base=str(tiny_bert), settings=tiny_settings(),
                     progress=False, **flags)
    assert (other / "keep.txt").read_text() == "mine"
    with pytest.raises(PretrainError, match=r"holds a pretraining run .*step 30 of 30.*--resume"):
        pretrain([text], adapted, base=str(tiny_bert), settings=tiny_settings(),
                 progress=False)
    with pytest.raises(PretrainError, match="base model's folder"):
        pretrain([text], tiny_bert, base=str(tiny_bert), settings=tiny_settings(),
                 progress=False)


def test_cli_reports_bad_input_clearly(tiny_bert: Path, write_file: WriteFile) -> None:
    text = write_file("unlabeled.txt", corpus_text())
    out = text.parent / "out"
    out.mkdir()
    (out / "x").write_text("x")
    proc = run_cli(str(text), "--output", str(out), "--base", str(tiny_bert), *TINY_ARGS)
    assert proc.returncode == 1
    # wasabi wraps at the terminal width, and the message holds a tmp path of varying length.
    printed = " ".join(proc.stdout.split())
    assert "Pretraining failed" in printed and "exists and is not empty" in printed
    assert "Traceback" not in proc.stderr
    proc = run_cli(str(text), "--output", str(out / "new"), "--base", str(tiny_bert),
                   "--repeat", "train.txt=2", *TINY_ARGS)
    printed = " ".join(proc.stdout.split())
    assert proc.returncode == 1 and "is not one of the inputs" in printed
    assert "Traceback" not in proc.stderr


def _weights(path: Path) -> Dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(path / "model.safetensors"))


def test_killed_run_resumes_from_its_last_checkpoint(tiny_bert: Path, tmp_path: Path) -> None:
    text = tmp_path / "unlabeled.txt"
    text.write_text(corpus_text(60), encoding="utf8")
    args = (str(text), "--base", str(tiny_bert), "--max-steps", "9", *TINY_ARGS)
    whole = run_cli(*args, "--output", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    # Killed (SIGKILL) as it starts saving step 6: the last checkpoint is step 4.
    killed = run_killed_at_checkpoint(6, *args, "--output", str(tmp_path / "run"))
    assert killed.returncode == -9, killed.stderr
    state = json.loads((tmp_path / "run" / "checkpoint" / "trainer_state.json").read_text())
    assert state["step"] == 4 and state["position"] == 16
    assert not (tmp_path / "run" / "model.safetensors").exists()
    again = run_cli(*args, "--output", str(tmp_path / "run"))
    assert again.returncode == 1 and "--resume" in again.stdout
    resumed = run_cli(*args, "--output", str(tmp_path / "run"), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming" in resumed.stderr and "at step 4" in resumed.stderr
    a = json.loads((tmp_path / "whole" / "checkpoint" / "trainer_state.json").read_text())
    b = json.loads((tmp_path / "run" / "checkpoint" / "trainer_state.json").read_text())
    for key in ("step", "epoch", "position", "tokens_seen", "data_fingerprint"):
        assert a[key] == b[key], key
    # Same data order, masks, dropout and optimizer state: the same model.
    wa, wb = _weights(tmp_path / "whole"), _weights(tmp_path / "run")
    assert wa.keys() == wb.keys()
    for name in wa:
        np.testing.assert_allclose(wa[name], wb[name], rtol=0, atol=1e-6, err_msg=name)
    log_a = (tmp_path / "whole" / "train_log.jsonl").read_text().splitlines()
    log_b = (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()
    losses_a = [json.loads(line)["loss"] for line in log_a]
    losses_b: List[float] = []
    for line in log_b:  # steps 5 and 6 (lost with the kill) and later were written twice
        row = json.loads(line)
        losses_b = losses_b[: row["step"] - 1] + [row["loss"]]
    assert losses_a == losses_b
    # Resuming with other settings is refused.
    changed = run_cli(*args, "--output", str(tmp_path / "run"), "--resume", "--seed", "1")
    assert changed.returncode == 1 and "seed: 0 (checkpoint) vs 1" in changed.stdout
    changed = run_cli(*args, "--output", str(tmp_path / "run"), "--resume",
                      "--repeat", f"{text}=2")
    assert changed.returncode == 1 and "repeats: {} (checkpoint)" in changed.stdout


def test_a_model_with_an_mlm_head_continues_without_a_new_head(adapted: Path,
                                                              tmp_path: Path) -> None:
    text = tmp_path / "unlabeled.txt"
    text.write_text(corpus_text(), encoding="utf8")
    _, _, new_head = load_mlm_model(str(adapted))
    assert new_head == []
    info = pretrain([text], tmp_path / "again", base=str(adapted), progress=False,
                    settings=tiny_settings(max_steps=2))
    assert info["new_head"] == [] and "new_head" not in info["perplexity"]
    assert info["perplexity"]["before"] is not None


def test_time_limit_saves_and_resume_finishes(tiny_bert: Path, tmp_path: Path) -> None:
    text = tmp_path / "unlabeled.txt"
    text.write_text(corpus_text(), encoding="utf8")
    out = tmp_path / "model"
    info = pretrain([text], out, base=str(tiny_bert), progress=False,
                    settings=tiny_settings(max_steps=5, time_limit_minutes=1e-6))
    assert info["stopped_early"] is True and info["steps"] == 1
    assert (out / "model.safetensors").exists() and info["perplexity"]["after"] is not None
    info = pretrain([text], out, base=str(tiny_bert), progress=False, resume=True,
                    settings=tiny_settings(max_steps=5))
    assert info["stopped_early"] is False and info["steps"] == 5
    assert info["perplexity"]["before"] is not None
    # Finished: resuming again has nothing to do and returns the saved summary.
    again = pretrain([text], out, base=str(tiny_bert), progress=False, resume=True,
                     settings=tiny_settings(max_steps=5))
    assert again == json.loads((out / "pretraining.json").read_text())


def test_a_finished_run_extends_with_more_steps(tiny_bert: Path, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    text = tmp_path / "unlabeled.txt"
    text.write_text(corpus_text(), encoding="utf8")
    out = tmp_path / "model"
    first = pretrain([text], out, base=str(tiny_bert), progress=False,
                     settings=tiny_settings(max_steps=4))
    assert first["steps"] == 4 and first["extended_from"] == []
    with caplog.at_level(logging.WARNING, logger="spacy_biobert.pretraining"):
        more = pretrain([text], out, base=str(tiny_bert), progress=False, resume=True,
                        settings=tiny_settings(max_steps=8))
    assert "Extending a finished 4-step run to 8 steps" in caplog.text
    assert more["steps"] == 8 and more["extended_from"] == [4]
    assert more["tokens_seen"] > first["tokens_seen"]
    assert more["perplexity"]["before"] == first["perplexity"]["before"]
    rows = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 9))
    # Steps 5-8 follow the 8-step schedule: back up from ~0, then down to 0.
    lrs = [row["lr"] for row in rows]
    assert lrs[4] > lrs[3] and lrs[4] > lrs[5] > lrs[6] > lrs[7]


def test_bf16_autocast_trains(tiny_bert: Path, tmp_path: Path) -> None:
    """``--precision bf16`` (meant for GPUs) runs the same code path on CPU autocast."""
    text = tmp_path / "unlabeled.txt"
    text.write_text(corpus_text(), encoding="utf8")
    info = pretrain([text], tmp_path / "model", base=str(tiny_bert), progress=False,
                    settings=tiny_settings(max_steps=4, precision="bf16"))
    assert info["steps"] == 4 and info["settings"]["precision"] == "bf16"
    rows = [json.loads(line) for line in
            (tmp_path / "model" / "train_log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(row["loss"]) and row["loss"] > 0 for row in rows)
    assert info["perplexity"]["after"] is not None and np.isfinite(info["perplexity"]["after"])
    with pytest.raises(PretrainError, match="precision must be one of fp32, bf16"):
        pretrain([text], tmp_path / "other", base=str(tiny_bert), progress=False,
                 settings=tiny_settings(precision="fp16"))


# --- which transformer a project run uses ---------------------------------------------------

def test_resolve_transformer(tmp_path: Path, adapted: Path) -> None:
    embedded = resolve_transformer("embedded")
    assert (Path(embedded) / "config.json").exists()
    assert resolve_transformer("adapted", str(adapted)) == str(adapted.resolve())
    # No implicit choice: a folder lying around is used only when named.
    with pytest.raises(ValueError, match="'auto' is not a choice"):
        resolve_transformer("auto", str(adapted))
    assert resolve_transformer("biobert") == "dmis-lab/biobert-base-cased-v1.2"
    with pytest.raises(ValueError, match="run `spacy project run adapt` first"):
        resolve_transformer("adapted", str(tmp_path / "none"))
    resolved = spacy.registry.resolve(Config().from_str(
        f'[x]\n@misc = "spacy-biobert.transformer_path.v1"\nchoice = "adapted"\n'
        f'adapted = "{adapted}"\n'))
    assert resolved["x"] == str(adapted.resolve())


# --- bench/pretrain_gain.py ------------------------------------------------------------

BENCH_TEXTS = [
    ("Aspirin caused bleeding in rats .", [(0, 7, "CHEMICAL"), (15, 23, "DISEASE")]),
    ("Cocaine induced seizures in two patients .", [(0, 7, "CHEMICAL"), (16, 24, "DISEASE")]),
    ("Lithium carbonate led to renal failure .",
     [(0, 17, "CHEMICAL"), (25, 38, "DISEASE")]),
]
# Every NER head of configs/ner_cpu.cfg needs a corpus that annotates its label.
OTHER_CORPORA = [
    ("bc2gm", "GENE_OR_GENE_PRODUCT", "BRCA1 is mutated in tumours .", (0, 5)),
    ("linnaeus", "SPECIES", "Rats and mice were used .", (9, 13)),
]


@pytest.mark.slow
def test_bench_pretrain_gain_dry_run(tiny_bert: Path, adapted: Path, tmp_path: Path,
                                     nlp: Any, repo_root: Path) -> None:
    from spacy_biobert.extensions import install_extensions

    install_extensions()
    docs = []
    for text, ents in BENCH_TEXTS * 2:
        doc = nlp(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in ents]
        doc._.corpus = "bc5cdr"
        doc._.annotated_labels = ("CHEMICAL", "DISEASE")
        docs.append(doc)
    others = []
    for corpus, label, text, (start, end) in OTHER_CORPORA * 2:
        doc = nlp(text)
        doc.ents = [doc.char_span(start, end, label=label)]
        doc._.corpus = corpus
        doc._.annotated_labels = (label,)
        others.append(doc)
    train, dev = tmp_path / "bc5cdr_train.spacy", tmp_path / "bc5cdr_dev.spacy"
    DocBin(docs=docs + others, store_user_data=True).to_disk(train)
    DocBin(docs=docs[:3], store_user_data=True).to_disk(dev)
    output = tmp_path / "gain.json"
    proc = subprocess.run(
        [sys.executable, str(repo_root / "bench" / "pretrain_gain.py"), "--dry-run",
         "--limit", "20",
         "--adapted", str(adapted), "--embedded", str(tiny_bert),
         "--config", str(repo_root / "configs" / "ner_cpu.cfg"),
         "--train", str(train), "--dev", str(dev), "--workdir", str(tmp_path / "work"),
         "--pipeline", "transformer", "ner_chemical", "ner_disease", "relation_extractor",
         "--override", "training.seed=7", "--output", str(output)],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["settings"]["transformers"] == {"embedded": str(tiny_bert),
                                                   "adapted": str(adapted.resolve())}
    for variant in ("embedded", "adapted"):
        assert set(results[variant]["ner"]["corpora"]) == {"bc5cdr"}
        cfg = (tmp_path / "work" / variant / "model-best" / "config.cfg").read_text()
        assert results["settings"]["transformers"][variant] in cfg
        trained = Config().from_str(cfg, interpolate=False)
        assert trained["nlp"]["pipeline"] == ["transformer", "ner_chemical", "ner_disease",
                                              "relation_extractor"]
        assert trained["training"]["seed"] == 7
        assert "cid" in results[variant]
    assert "| bc5cdr |" in proc.stdout and "goal: BC5CDR gain" in proc.stdout
    assert "DRY RUN" in proc.stdout and results["pretraining"]["steps"] == 30
