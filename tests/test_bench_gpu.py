"""bench/gpu_check.py --tiny: the prepared GPU script runs end to end on CPU."""
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from spacy.tokens import DocBin

# (corpus, annotated labels, text, entities as character offsets)
DOCS = [
    ("bc5cdr", ("CHEMICAL", "DISEASE"), "Aspirin caused bleeding in rats .",
     [(0, 7, "CHEMICAL"), (15, 23, "DISEASE")]),
    ("bc5cdr", ("CHEMICAL", "DISEASE"), "Cocaine induced seizures in two patients .",
     [(0, 7, "CHEMICAL"), (16, 24, "DISEASE")]),
    ("ncbi_disease", ("DISEASE",), "Renal failure followed .", [(0, 13, "DISEASE")]),
    ("bc2gm", ("GENE_OR_GENE_PRODUCT",), "BRCA1 is mutated in tumours .",
     [(0, 5, "GENE_OR_GENE_PRODUCT")]),
    ("linnaeus", ("SPECIES",), "Rats and mice were used .", [(9, 13, "SPECIES")]),
]


@pytest.mark.slow
def test_gpu_check_dry_run(nlp: Any, tmp_path: Path, repo_root: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    by_corpus: dict = {}
    for name, labels, text, ents in DOCS * 3:
        doc = nlp(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in ents]
        doc._.corpus = name
        doc._.annotated_labels = labels
        by_corpus.setdefault(name, []).append(doc)
    for name, docs in by_corpus.items():
        for split in ("train", "dev"):
            DocBin(docs=docs, store_user_data=True).to_disk(corpus / f"{name}_{split}.spacy")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(repo_root / "bench" / "gpu_check.py"), "--tiny", "--steps", "4",
         "--pretrain-steps", "3", "--corpus", str(corpus), "--out", str(out),
         "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["tiny"] is True and report["steps"] == 4
    assert report["train_steps_per_s"] > 0 and report["inference_words_per_s"] > 0
    assert report["inference_docs"] == len(by_corpus["bc5cdr"]) + len(by_corpus["ncbi_disease"])
    pretrain = report["pretrain"]
    assert pretrain["steps"] == 3 and set(pretrain) == {"steps", "fp32"}  # bf16: GPU only
    assert pretrain["fp32"]["wordpieces_per_s"] > 0
    assert (tmp_path / "work" / "pretrain-fp32" / "model.safetensors").exists()
