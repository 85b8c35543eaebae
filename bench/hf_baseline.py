"""Baseline: the hand-rolled Hugging Face token-classification fine-tune.

This is the script most BioBERT users write (the BioBERT reference NER code and the
Hugging Face token-classification tutorial do the same thing), used as the baseline
that the spaCy pipeline of spacy-biobert is compared against:

* examples are sentences (each ``Doc`` of a converted ``.spacy`` corpus is split by
  ``doc.sents``); words are the spaCy tokens (whitespace tokens left out), tags are BIO
  tags from ``doc.ents``;
* a fast tokenizer with ``is_split_into_words=True`` turns words into wordpieces; only
  the first wordpiece of a word carries its label (the others get -100), and sentences
  are truncated at ``--max-length`` wordpieces (truncated words are counted and are
  predicted "O");
* ``AutoModelForTokenClassification`` is fine-tuned with a plain PyTorch loop: AdamW
  (weight decay 0.01, none on biases and LayerNorm), linear warmup (10 % of the steps)
  and decay, gradient clipping at 1.0, seed 0, shuffled batches padded per batch;
* on the dev file, the tag of each word is the tag predicted for its first wordpiece;
  tags are decoded to entities per sentence with the usual BIO repair (an ``I-X``
  without a preceding ``B-X``/``I-X`` starts an entity), put back on copies of the gold
  Docs (so character offsets are the Docs' own) and scored with
  ``spacy_biobert.evaluation.score_docs``: strict span match, on the dev docs'
  ``annotated_labels``, exactly as ``python -m spacy_biobert evaluate`` scores the
  spaCy pipeline.

The model after the last epoch is scored (no checkpoint selection on dev), whereas
``training/model-best`` of ``spacy train`` is the best dev checkpoint.

Given ``--spacy-model``, the same run scores that trained spaCy pipeline on the same dev
documents with ``spacy_biobert.evaluation.evaluate_corpora`` and prints both F1 scores
side by side. All numbers go to the ``--output`` JSON file.

Commands (from the repository root, in its venv; HF_HUB_OFFLINE=1 works with the
default, embedded MiniLM model)::

    # the comparison on BC5CDR (CPU, embedded MiniLM, same transformer as configs/ner_cpu.cfg)
    python bench/hf_baseline.py --train corpus/bc5cdr_train.spacy \\
        --dev corpus/bc5cdr_dev.spacy --spacy-model training/model-best \\
        --output metrics/bench_hf_bc5cdr.json

    # a smoke run (20 documents of each file, one epoch)
    python bench/hf_baseline.py --train corpus/bc5cdr_train.spacy \\
        --dev corpus/bc5cdr_dev.spacy --limit 20 --epochs 1

    # BioBERT instead of MiniLM (needs the hub or a local copy of the model)
    python bench/hf_baseline.py --train corpus/bc5cdr_train.spacy \\
        --dev corpus/bc5cdr_dev.spacy --model dmis-lab/biobert-base-cased-v1.2
"""
import argparse
import json
import logging
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import spacy
import torch
from spacy.scorer import PRFScore
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab
from transformers import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    get_linear_schedule_with_warmup,
)
from transformers.utils import logging as hf_logging

import spacy_biobert
from spacy_biobert.evaluation import annotated_labels, evaluate_corpora, score_docs
from spacy_biobert.transformers_path import embedded_transformer_path

logger = logging.getLogger("bench.hf_baseline")
# doc._.corpus and doc._.annotated_labels of the .spacy files read below.
spacy_biobert.install_extensions()

OUTSIDE = "O"
IGNORE = -100
WordSpan = Tuple[int, int, str]  # first word, end word (exclusive), label
CharSpan = Tuple[int, int, str]  # start char, end char, label


@dataclass
class Sentence:
    """One training/prediction example: the words of a sentence and their BIO tags."""

    doc_index: int
    token_indices: List[int]  # Doc token index of each word
    words: List[str]
    tags: List[str]


@dataclass
class Encoded:
    """A tokenized sentence: wordpiece ids, labels of first wordpieces, word of each piece."""

    input_ids: List[int]
    labels: List[int]
    word_ids: List[Optional[int]]
    truncated: List[int]  # words whose wordpieces were all cut off by truncation


@dataclass
class EncodingStats:
    sentences: int = 0
    truncated_sentences: int = 0
    truncated_words: int = 0
    truncated_entity_words: int = 0  # truncated words inside gold entities
    words_without_wordpieces: int = 0


@dataclass
class TrainStats:
    steps: int = 0
    seconds: float = 0.0
    examples_per_second: float = 0.0
    losses: List[float] = field(default_factory=list)  # mean loss of each epoch


# --- data ---------------------------------------------------------------------------


def load_docs(path: Path, vocab: Vocab, limit: int = 0) -> List[Doc]:
    """The Docs of a converted ``.spacy`` file, the first ``limit`` of them if limit > 0."""
    docs = list(DocBin(store_user_data=True).from_disk(path).get_docs(vocab))
    if not docs:
        raise ValueError(f"{path}: no documents")
    return docs[:limit] if limit > 0 else docs


def doc_labels(docs: Iterable[Doc]) -> List[str]:
    """The labels the docs annotate (``doc._.annotated_labels``, else their entity labels)."""
    return sorted(annotated_labels(docs))


def tag_scheme(labels: Sequence[str]) -> List[str]:
    """The BIO tag set: "O", then B-/I- for each label."""
    return [OUTSIDE] + [f"{prefix}-{label}" for label in sorted(labels) for prefix in "BI"]


def token_tags(doc: Doc) -> List[str]:
    """One BIO tag per token of the Doc from ``doc.ents`` (whitespace tokens stay "O")."""
    tags = [OUTSIDE] * len(doc)
    for ent in doc.ents:
        inside = [t.i for t in ent if not t.text.isspace()]
        for n, i in enumerate(inside):
            tags[i] = f"{'B' if n == 0 else 'I'}-{ent.label_}"
    return tags


def doc_to_sentences(doc: Doc, doc_index: int) -> List[Sentence]:
    """Split a Doc into sentence examples; words are its non-whitespace tokens."""
    tags = token_tags(doc)
    sentences = []
    for sent in doc.sents:
        indices = [t.i for t in sent if not t.text.isspace()]
        if indices:
            sentences.append(Sentence(doc_index, indices, [doc[i].text for i in indices],
                                      [tags[i] for i in indices]))
    return sentences


def entities_across_sentences(docs: Iterable[Doc]) -> int:
    """Gold entities that cross a sentence boundary (no sentence tagger can get them)."""
    return sum(1 for doc in docs for ent in doc.ents
               if ent[0].sent.start != ent[-1].sent.start)


def decode_bio(tags: Sequence[str]) -> List[WordSpan]:
    """Entities of a BIO tag sequence, as (first word, end word, label).

    BIO repair as conlleval/seqeval do it: an ``I-X`` that follows "O" or a tag of
    another label starts a new entity instead of being dropped.
    """
    spans: List[WordSpan] = []
    start: Optional[int] = None
    label = ""
    for i, tag in enumerate(list(tags) + [OUTSIDE]):
        prefix, _, tag_label = tag.partition("-")
        continues = prefix == "I" and start is not None and tag_label == label
        if start is not None and not continues:
            spans.append((start, i, label))
            start = None
        if prefix in ("B", "I") and start is None:
            start, label = i, tag_label
    return spans


def sentence_char_spans(doc: Doc, sentence: Sentence, tags: Sequence[str]) -> List[CharSpan]:
    """Decode one sentence's word tags into character offsets of the Doc."""
    spans = []
    for first, end, label in decode_bio(tags):
        start_token = doc[sentence.token_indices[first]]
        end_token = doc[sentence.token_indices[end - 1]]
        spans.append((start_token.idx, end_token.idx + len(end_token), label))
    return spans


def predicted_docs(gold: Sequence[Doc], sentences: Sequence[Sentence],
                   tags: Sequence[Sequence[str]]) -> List[Doc]:
    """Copies of the gold Docs whose ``doc.ents`` are the decoded predicted tags."""
    spans: List[List[CharSpan]] = [[] for _ in gold]
    for sentence, sentence_tags in zip(sentences, tags):
        doc = gold[sentence.doc_index]
        spans[sentence.doc_index].extend(sentence_char_spans(doc, sentence, sentence_tags))
    docs = []
    for doc, doc_spans in zip(gold, spans):
        pred = doc.copy()
        ents = []
        for start, end, label in doc_spans:
            ent = pred.char_span(start, end, label=label)
            if ent is None:  # cannot happen: spans start and end on tokens
                raise ValueError(f"span {start}:{end} is not on token boundaries")
            ents.append(ent)
        pred.set_ents(ents, default="outside")
        docs.append(pred)
    return docs


# --- tokenization -------------------------------------------------------------------


def encode(sentences: Sequence[Sentence], tokenizer: PreTrainedTokenizerBase,
           label2id: Dict[str, int], max_length: int) -> Tuple[List[Encoded], EncodingStats]:
    """Wordpieces of each sentence; the first wordpiece of a word carries its tag.

    Words that lose all their wordpieces to truncation are counted (they get no label
    in training and are predicted "O"), as are words the tokenizer turns into nothing.
    """
    words = [s.words for s in sentences]
    full = tokenizer(words, is_split_into_words=True, truncation=False)
    cut = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
    stats = EncodingStats(sentences=len(sentences))
    encoded = []
    for n, sentence in enumerate(sentences):
        word_ids = cut.word_ids(n)
        has_pieces = {w for w in full.word_ids(n) if w is not None}
        truncated = has_pieces - {w for w in word_ids if w is not None}
        stats.truncated_words += len(truncated)
        stats.truncated_sentences += bool(truncated)
        stats.truncated_entity_words += sum(sentence.tags[w] != OUTSIDE for w in truncated)
        stats.words_without_wordpieces += len(sentence.words) - len(has_pieces)
        labels = []
        previous: Optional[int] = None
        for word in word_ids:
            first = word is not None and word != previous
            labels.append(label2id[sentence.tags[word]] if first and word is not None
                          else IGNORE)
            previous = word
        encoded.append(Encoded(list(cut["input_ids"][n]), labels, word_ids, sorted(truncated)))
    return encoded, stats


def collate(batch: Sequence[Encoded], pad_id: int) -> Dict[str, torch.Tensor]:
    """Pad a batch to its longest sequence."""
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    for row, e in enumerate(batch):
        ids[row, : len(e.input_ids)] = torch.tensor(e.input_ids)
        mask[row, : len(e.input_ids)] = 1
        labels[row, : len(e.labels)] = torch.tensor(e.labels)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


# --- training and prediction --------------------------------------------------------


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(model: PreTrainedModel, data: Sequence[Encoded], *, pad_id: int, epochs: int,
          lr: float, batch_size: int, warmup: float = 0.1, weight_decay: float = 0.01,
          seed: int = 0, device: str = "cpu", log_every: int = 50) -> TrainStats:
    """Fine-tune ``model`` in place with AdamW and a linear warmup/decay schedule."""
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
         "weight_decay": weight_decay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=lr)
    steps_per_epoch = (len(data) + batch_size - 1) // batch_size
    total = steps_per_epoch * epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup * total), total)
    rng = random.Random(seed)
    stats = TrainStats()
    model.to(device)  # type: ignore[arg-type]
    model.train()
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = list(range(len(data)))
        rng.shuffle(order)
        epoch_loss, window_loss, window_steps, window_examples = 0.0, 0.0, 0, 0
        window_start = time.perf_counter()
        for b in range(steps_per_epoch):
            batch = [data[i] for i in order[b * batch_size: (b + 1) * batch_size]]
            inputs = {k: v.to(device) for k, v in collate(batch, pad_id).items()}
            loss = model(**inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            stats.steps += 1
            epoch_loss += loss.item()
            window_loss += loss.item()
            window_steps += 1
            window_examples += len(batch)
            if stats.steps % log_every == 0 or b == steps_per_epoch - 1:
                seconds = time.perf_counter() - window_start
                logger.info("epoch %d step %d/%d loss %.4f lr %.2e %.1f examples/s",
                            epoch, stats.steps, total, window_loss / window_steps,
                            scheduler.get_last_lr()[0], window_examples / max(seconds, 1e-9))
                window_loss, window_steps, window_examples = 0.0, 0, 0
                window_start = time.perf_counter()
        stats.losses.append(epoch_loss / max(steps_per_epoch, 1))
        logger.info("epoch %d done: mean loss %.4f", epoch, stats.losses[-1])
    stats.seconds = time.perf_counter() - start
    stats.examples_per_second = len(data) * epochs / max(stats.seconds, 1e-9)
    return stats


@torch.no_grad()
def predict(model: PreTrainedModel, data: Sequence[Encoded], sentences: Sequence[Sentence],
            id2label: Dict[int, str], *, pad_id: int, batch_size: int = 32,
            device: str = "cpu") -> List[List[str]]:
    """Word-level tags: each word takes the tag of its first wordpiece ("O" if none)."""
    model.to(device)  # type: ignore[arg-type]
    model.eval()
    tags: List[List[str]] = [[OUTSIDE] * len(s.words) for s in sentences]
    order = sorted(range(len(data)), key=lambda i: len(data[i].input_ids))  # less padding
    for b in range(0, len(order), batch_size):
        rows = order[b: b + batch_size]
        inputs = collate([data[i] for i in rows], pad_id)
        logits = model(input_ids=inputs["input_ids"].to(device),
                       attention_mask=inputs["attention_mask"].to(device)).logits
        best = logits.argmax(-1).cpu().tolist()
        for row, i in enumerate(rows):
            previous: Optional[int] = None
            for position, word in enumerate(data[i].word_ids):
                if word is not None and word != previous:
                    tags[i][word] = id2label[best[row][position]]
                previous = word
    return tags


# --- scoring ------------------------------------------------------------------------


def prf(score: PRFScore) -> Dict[str, float]:
    """Percent P/R/F and counts, in the format of ``evaluate_corpora``."""
    return {"p": round(score.precision * 100, 2), "r": round(score.recall * 100, 2),
            "f": round(score.fscore * 100, 2), "tp": score.tp, "fp": score.fp, "fn": score.fn}


def score(pred: Sequence[Doc], gold: Sequence[Doc], labels: Sequence[str]) -> Dict[str, Any]:
    """Per-label and micro scores, strict span match (``score_docs``)."""
    scores = score_docs(pred, gold, labels)
    micro = PRFScore()
    for s in scores.values():
        micro.tp, micro.fp, micro.fn = micro.tp + s.tp, micro.fp + s.fp, micro.fn + s.fn
    return {"labels": {label: prf(s) for label, s in scores.items()}, "micro": prf(micro)}


def evaluate_spacy(model: str, dev_docs: Sequence[Doc]) -> Dict[str, Any]:
    """``evaluate_corpora`` of a trained spaCy pipeline on exactly these dev documents."""
    nlp = spacy.load(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dev.spacy"
        DocBin(docs=dev_docs, store_user_data=True).to_disk(path)
        return evaluate_corpora(nlp, [path])


# --- the benchmark ------------------------------------------------------------------


def run_baseline(train_path: Path, dev_path: Path, *, model_name: Optional[str] = None,
                 epochs: int = 4, lr: float = 5e-5, batch_size: int = 16,
                 max_length: int = 128, limit: int = 0, seed: int = 0, threads: int = 2,
                 device: str = "cpu", spacy_model: Optional[str] = None,
                 log_every: int = 50) -> Dict[str, Any]:
    """Fine-tune on ``train_path``, score on ``dev_path`` (and the spaCy model, if given).

    RETURNS (Dict[str, Any]): settings, data counts, ``hf`` (per-label and micro P/R/F,
        train time) and ``spacy`` (the ``evaluate_corpora`` result, or None), and
        ``difference_f`` (HF micro F1 minus spaCy micro F1, in points, or None).
    """
    model_name = model_name or embedded_transformer_path()
    torch.set_num_threads(threads)
    set_seed(seed)
    vocab = spacy.blank("en").vocab
    train_docs = load_docs(train_path, vocab, limit)
    dev_docs = load_docs(dev_path, vocab, limit)
    labels = sorted({e.label_ for d in [*train_docs, *dev_docs] for e in d.ents}
                    | set(doc_labels(train_docs)) | set(doc_labels(dev_docs)))
    tags = tag_scheme(labels)
    label2id = {tag: i for i, tag in enumerate(tags)}
    id2label = dict(enumerate(tags))

    train_sents = [s for i, d in enumerate(train_docs) for s in doc_to_sentences(d, i)]
    dev_sents = [s for i, d in enumerate(dev_docs) for s in doc_to_sentences(d, i)]
    tokenizer = AutoTokenizer.from_pretrained(model_name, use_fast=True)
    train_data, train_enc = encode(train_sents, tokenizer, label2id, max_length)
    dev_data, dev_enc = encode(dev_sents, tokenizer, label2id, max_length)
    logger.info("%d train sentences (%d docs), %d dev sentences (%d docs); tags %s",
                len(train_sents), len(train_docs), len(dev_sents), len(dev_docs), tags)
    logger.info("truncated at %d wordpieces: %d train words, %d dev words",
                max_length, train_enc.truncated_words, dev_enc.truncated_words)

    set_seed(seed)
    model = AutoModelForTokenClassification.from_pretrained(
        model_name, num_labels=len(tags), id2label=id2label, label2id=label2id)
    pad_id = tokenizer.pad_token_id or 0
    stats = train(model, train_data, pad_id=pad_id, epochs=epochs, lr=lr,
                  batch_size=batch_size, seed=seed, device=device, log_every=log_every)
    start = time.perf_counter()
    dev_tags = predict(model, dev_data, dev_sents, id2label, pad_id=pad_id,
                       batch_size=batch_size * 2, device=device)
    predict_seconds = time.perf_counter() - start
    dev_labels = doc_labels(dev_docs)
    hf = score(predicted_docs(dev_docs, dev_sents, dev_tags), dev_docs, dev_labels)
    # The best any model can do with this truncation: gold tags, truncated words "O".
    ceiling_tags = [[OUTSIDE if w in e.truncated else tag for w, tag in enumerate(s.tags)]
                    for s, e in zip(dev_sents, dev_data)]
    ceiling = score(predicted_docs(dev_docs, dev_sents, ceiling_tags), dev_docs, dev_labels)
    hf.update({
        "train_seconds": round(stats.seconds, 1),
        "train_steps": stats.steps,
        "train_examples_per_second": round(stats.examples_per_second, 1),
        "epoch_losses": [round(loss, 4) for loss in stats.losses],
        "predict_seconds": round(predict_seconds, 1),
        "dev_words_per_second": round(sum(len(d) for d in dev_docs) / predict_seconds, 1)
        if predict_seconds else None,
    })

    spacy_result = None
    difference = None
    if spacy_model:
        logger.info("evaluating the spaCy pipeline %s", spacy_model)
        spacy_result = evaluate_spacy(spacy_model, dev_docs)
        difference = round(hf["micro"]["f"] - spacy_result["micro"]["f"], 2)
    return {
        "corpus": dev_docs[0]._.corpus or Path(dev_path).stem,
        "train": str(train_path),
        "dev": str(dev_path),
        "settings": {"model": model_name, "epochs": epochs, "lr": lr, "batch_size": batch_size,
                     "max_length": max_length, "limit": limit, "seed": seed,
                     "threads": threads, "device": device, "warmup": 0.1,
                     "weight_decay": 0.01, "tags": tags},
        "data": {
            "train_docs": len(train_docs), "dev_docs": len(dev_docs),
            "train": vars(train_enc), "dev": vars(dev_enc),
            "dev_entities_across_sentences": entities_across_sentences(dev_docs),
            "dev_truncation_ceiling_f": ceiling["micro"]["f"],
            "scored_labels": dev_labels,
        },
        "hf": hf,
        "spacy_model": spacy_model,
        "spacy": spacy_result,
        "difference_f": difference,
    }


def report(result: Dict[str, Any]) -> str:
    """The side-by-side table (Markdown) of a :func:`run_baseline` result."""
    hf, sp = result["hf"], result["spacy"]
    sp_f = f"{sp['micro']['f']:.2f}" if sp else "–"
    diff = f"{result['difference_f']:+.2f}" if result["difference_f"] is not None else "–"
    lines = [
        "| corpus | HF fine-tune F1 | spaCy-biobert F1 | HF − spaCy (points) | HF train time |",
        "|---|---:|---:|---:|---:|",
        f"| {result['corpus']} | {hf['micro']['f']:.2f} | {sp_f} | {diff} | "
        f"{hf['train_seconds']:.0f} s |",
        "",
        "| label | HF P | HF R | HF F1 | spaCy F1 |",
        "|---|---:|---:|---:|---:|",
    ]
    sp_labels = next(iter(sp["corpora"].values()))["labels"] if sp else {}
    for label, s in hf["labels"].items():
        other = f"{sp_labels[label]['f']:.2f}" if label in sp_labels else "–"
        lines.append(f"| {label} | {s['p']:.2f} | {s['r']:.2f} | {s['f']:.2f} | {other} |")
    data = result["data"]
    lines += ["", f"dev: {data['dev_docs']} docs, {data['dev']['sentences']} sentences, "
              f"{data['dev']['truncated_words']} words truncated at "
              f"{result['settings']['max_length']} wordpieces (predicted O; F1 ceiling "
              f"{data['dev_truncation_ceiling_f']:.2f}), "
              f"{data['dev_entities_across_sentences']} gold entities across sentences; "
              f"train: {data['train']['sentences']} sentences, "
              f"{data['train']['truncated_words']} words truncated"]
    return "\n".join(lines)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, required=True, help="training .spacy file")
    parser.add_argument("--dev", type=Path, required=True, help="dev .spacy file (scored)")
    parser.add_argument("--model", default=None,
                        help="HF model name or folder (default: the embedded MiniLM)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128, help="wordpieces per sentence")
    parser.add_argument("--limit", type=int, default=0,
                        help="use the first N docs of each file (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--device", default="cpu", help='"cpu" or "cuda"')
    parser.add_argument("--log-every", type=int, default=50, help="log every N steps")
    parser.add_argument("--spacy-model", default=None,
                        help="trained spaCy pipeline to score on the same dev docs")
    parser.add_argument("--output", type=Path, default=None,
                        help="metrics JSON (default: metrics/bench_hf_<corpus>.json)")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    hf_logging.set_verbosity_error()  # "Some weights ... newly initialized" is expected
    result = run_baseline(args.train, args.dev, model_name=args.model, epochs=args.epochs,
                          lr=args.lr, batch_size=args.batch_size, max_length=args.max_length,
                          limit=args.limit, seed=args.seed, threads=args.threads,
                          device=args.device, spacy_model=args.spacy_model,
                          log_every=args.log_every)
    given = sys.argv[1:] if argv is None else list(argv)
    result["command"] = " ".join(["python", "bench/hf_baseline.py", *given])
    output = args.output or Path("metrics") / f"bench_hf_{result['corpus']}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(report(result))
    print(f"\nmetrics written to {output}")


if __name__ == "__main__":
    main()
