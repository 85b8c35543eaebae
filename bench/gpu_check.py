"""GPU check of the BioBERT profile without BioBERT's weights.

Offline machines cannot download ``dmis-lab/biobert-base-cased-v1.2``, so this
builds a randomly initialized model of the same configuration (BERT-base, cased,
12 layers, 768 wide, a 28,996-piece cased WordPiece vocabulary trained on the
corpora's own text) — the same speed as BioBERT — and then:

1. trains ``configs/ner_gpu.cfg`` (mixed precision, pytorch allocator, strided
   spans) on it with ``spacy train`` for ``--steps`` steps, timing the steps;
2. loads ``model-best`` and times ``nlp.pipe`` over the dev documents on the GPU;
3. continues masked-LM pretraining of it (``spacy_biobert pretrain``, the recipe of
   ``docs/pretraining.md``) for ``--pretrain-steps`` steps in bf16 and
   fp32, timing wordpieces/s: what a GPU makes of domain adaptation;
4. writes everything (versions, steps/s, words/s, peak GPU memory) as JSON.

Accuracy is meaningless here (random weights); speed and "it trains with mixed
precision on GPU" are what is checked. Run it through ``bench/gpu_check.sh``;
``--tiny`` runs the same code on a tiny model on CPU (a dry run before using a GPU).
"""
import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import spacy
from spacy.tokens import DocBin

import spacy_biobert  # noqa: F401  (registers the tokenizer)
import spacy_biobert.corpora.multi  # noqa: F401
import spacy_biobert.ner.component  # noqa: F401
import spacy_biobert.ner.scorer  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger("gpu_check")


def corpus_texts(paths: List[Path]) -> List[str]:
    nlp = spacy.blank("en")
    texts: List[str] = []
    for path in paths:
        texts.extend(d.text for d in DocBin().from_disk(path).get_docs(nlp.vocab))
    return texts


def build_random_bert(out: Path, texts: List[str], *, tiny: bool) -> Path:
    """A randomly initialized cased BERT with a WordPiece vocab trained on ``texts``."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    vocab_size = 2000 if tiny else 28996  # BioBERT v1.2 / BERT-base-cased vocabulary size
    wordpiece = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    wordpiece.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=1)
    wordpiece.save_model(str(out))
    tokenizer = BertTokenizerFast(vocab_file=str(out / "vocab.txt"), do_lower_case=False)
    tokenizer.save_pretrained(out)
    if tiny:
        config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=64)
    else:
        config = BertConfig(vocab_size=tokenizer.vocab_size)  # BERT-base: 12 x 768
    BertModel(config).save_pretrained(out)
    return out


def time_pretraining(model_dir: Path, inputs: List[Path], workdir: Path, *, steps: int,
                     use_gpu: bool, tiny: bool) -> Dict[str, Any]:
    """Wordpieces/s of continued MLM pretraining (32 x 128 batches) per precision."""
    import shutil

    import torch

    from spacy_biobert.pretraining.trainer import PretrainSettings, pretrain

    results: Dict[str, Any] = {"steps": steps}
    for precision in ("bf16", "fp32") if use_gpu else ("fp32",):
        output = workdir / f"pretrain-{precision}"
        shutil.rmtree(output, ignore_errors=True)
        settings = PretrainSettings(
            max_steps=steps, save_every=steps, head_fit_steps=2 if tiny else 20,
            heldout_every=0, batch_size=4 if tiny else 32, seq_len=32 if tiny else 128,
            device="cuda" if use_gpu else "cpu", precision=precision)
        if use_gpu:
            torch.cuda.reset_peak_memory_stats()
        info = pretrain(inputs, output, base=str(model_dir), settings=settings, progress=False)
        speed = float(info["tokens_per_second"])
        row: Dict[str, Any] = {"wordpieces_per_s": speed, "train_seconds": info["train_seconds"]}
        # The CPU recipe of docs/pretraining.md: 2,600 steps (of 32 x 128 wordpieces on a GPU).
        wordpieces = 2600 * settings.batch_size * settings.seq_len
        row["minutes_for_2600_steps"] = round(wordpieces / max(speed, 1e-9) / 60, 1)
        if use_gpu:
            row["peak_gpu_mem_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        results[precision] = row
        logger.info("pretraining %s: %.0f wordpieces/s", precision, speed)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "metrics" / "gpu")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--pretrain-steps", type=int, default=200,
                        help="MLM pretraining steps timed per precision (0 = skip)")
    parser.add_argument("--workdir", type=Path, default=Path("training-gpu-check"))
    parser.add_argument("--tiny", action="store_true", help="tiny model on CPU (dry run)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    report: Dict[str, Any] = {"steps": args.steps, "tiny": args.tiny}

    import torch

    report["torch"] = torch.__version__
    report["spacy"] = spacy.__version__
    use_gpu = torch.cuda.is_available() and not args.tiny
    if use_gpu:
        report["device"] = torch.cuda.get_device_name(0)
    train = [args.corpus / "bc5cdr_train.spacy", args.corpus / "ncbi_disease_train.spacy",
             args.corpus / "bc2gm_train.spacy", args.corpus / "linnaeus_train.spacy"]
    dev = [args.corpus / "bc5cdr_dev.spacy", args.corpus / "ncbi_disease_dev.spacy"]
    train, dev = [p for p in train if p.exists()], [p for p in dev if p.exists()]

    start = time.perf_counter()
    model_dir = build_random_bert(args.workdir / "random-biobert-cased", corpus_texts(train),
                                  tiny=args.tiny)
    report["build_model_s"] = round(time.perf_counter() - start, 1)
    logger.info("random BERT built in %.1fs", report["build_model_s"])

    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as train_loop
    from spacy.util import load_config

    overrides = {
        "components.transformer.model.name": str(model_dir),
        "paths.train": " ".join(map(str, train)),
        "paths.dev": " ".join(map(str, dev)),
        "training.max_steps": args.steps,
        "training.optimizer.learn_rate.total_steps": args.steps,
        "training.eval_frequency": max(args.steps // 2, 1),
        "corpora.dev.limit_per_corpus": 50,
        "training.logger.progress_bar": None,
    }
    kb = args.corpus / "linking_kb.bin"
    if kb.exists():
        overrides["paths.kb"] = str(kb)
    else:
        # The GPU check measures the transformer and heads; the linker needs the KB.
        logger.info("no %s: training without the entity linker", kb)
        pipeline = load_config(ROOT / "configs" / "ner_gpu.cfg")["nlp"]["pipeline"]
        overrides["nlp.pipeline"] = [p for p in pipeline if p != "entity_linker"]
    mesh = ROOT / "assets" / "mesh" / "mesh_id_label_mappings.tsv"
    if mesh.exists():
        overrides["paths.mesh"] = str(mesh)
    else:
        # The species dictionary then starts from the training split's species texts.
        logger.info("no %s: species dictionary without MeSH names", mesh)
        overrides["paths.mesh"] = None
    if args.tiny:
        overrides.update({"components.transformer.model.mixed_precision": False,
                          "system.gpu_allocator": None, "training.gpu_allocator": None,
                          "corpora.train.limit_per_corpus": 20})
    output = args.workdir / "training"
    output.mkdir(parents=True, exist_ok=True)
    gpu_id = 0 if use_gpu else -1
    if use_gpu:
        spacy.require_gpu(0)
    config = load_config(ROOT / "configs" / "ner_gpu.cfg", overrides=overrides,
                         interpolate=False)
    start = time.perf_counter()
    nlp = init_nlp(config, use_gpu=gpu_id)
    report["init_s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    train_loop(nlp, output, use_gpu=gpu_id, stdout=sys.stderr, stderr=sys.stderr)
    seconds = time.perf_counter() - start
    report["train_loop_s"] = round(seconds, 1)
    # Includes two evaluations on 100 dev documents.
    report["train_steps_per_s"] = round(args.steps / seconds, 2)
    if use_gpu:
        report["train_peak_gpu_mem_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)

    nlp = spacy.load(output / "model-best")
    report["mixed_precision"] = nlp.config["components"]["transformer"]["model"]["mixed_precision"]
    docs = [d for p in dev for d in DocBin().from_disk(p).get_docs(nlp.vocab)]
    texts = [d.text for d in docs]
    n_words = sum(len(d) for d in docs)
    list(nlp.pipe(texts[:16], batch_size=64))  # warm-up
    start = time.perf_counter()
    list(nlp.pipe(texts, batch_size=64))
    seconds = time.perf_counter() - start
    report["inference_docs"] = len(texts)
    report["inference_words_per_s"] = round(n_words / seconds, 1)
    logger.info("inference: %d words in %.1fs", n_words, seconds)
    if args.pretrain_steps > 0:
        report["pretrain"] = time_pretraining(model_dir, train, args.workdir,
                                              steps=args.pretrain_steps, use_gpu=use_gpu,
                                              tiny=args.tiny)
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
