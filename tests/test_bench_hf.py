"""bench/hf_baseline.py on a tiny random BERT: BIO round trip, truncation, end to end."""
from pathlib import Path
from types import ModuleType
from typing import List, Optional, Tuple

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH = REPO_ROOT / "bench" / "hf_baseline.py"

Ent = Tuple[int, int, str]
# (words, spaces, sentence starts, entities as token spans); the second doc has a
# double space (a whitespace token inside an entity) and an entity ending a sentence.
DOCS: List[Tuple[List[str], List[bool], List[int], List[Ent]]] = [
    (["Lidocaine", "induced", "cardiac", "arrest", ".", "Aspirin", "helps", "."],
     [True, True, True, False, True, True, False, False], [0, 5],
     [(0, 1, "CHEMICAL"), (2, 4, "DISEASE"), (5, 6, "CHEMICAL")]),
    (["Acute", " ", "renal", "failure", "after", "cisplatin", "."],
     [True, False, True, True, True, False, False], [0],
     [(0, 4, "DISEASE"), (5, 6, "CHEMICAL")]),
    (["No", "toxicity", "was", "seen", "with", "lithium", "carbonate", "."],
     [True, True, True, True, True, True, False, False], [0],
     [(1, 2, "DISEASE"), (5, 7, "CHEMICAL")]),
]
# "lidocaine" is left out of the vocabulary: it becomes "lido" + "##caine"
WORDS = sorted({w.lower() for words, *_ in DOCS for w in words if w.strip()} - {"lidocaine"})
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, "##s", "##ed", "lido", "##caine"]


@pytest.fixture(scope="module")
def bench(load_bench) -> ModuleType:  # type: ignore[no-untyped-def]
    return load_bench("hf_baseline")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = tmp_path_factory.mktemp("tiny_bert")
    vocab_file = path / "vocab.txt"
    vocab_file.write_text("\n".join(VOCAB) + "\n", encoding="utf8")
    BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True).save_pretrained(path)
    torch.manual_seed(0)  # the same random model every run
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=64)
    BertModel(config).save_pretrained(path)
    return path


def make_docs(vocab: Vocab) -> List[Doc]:
    docs = []
    for words, spaces, starts, ents in DOCS:
        doc = Doc(vocab, words=words, spaces=spaces,
                  sent_starts=[i in starts for i in range(len(words))])
        doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
        doc._.corpus = "tiny"
        doc._.annotated_labels = ("CHEMICAL", "DISEASE")
        docs.append(doc)
    return docs


def char_spans(doc: Doc) -> List[Ent]:
    return sorted((e.start_char, e.end_char, e.label_) for e in doc.ents)


def test_bio_round_trip(bench: ModuleType) -> None:
    docs = make_docs(spacy.blank("en").vocab)
    sentences = [s for i, d in enumerate(docs) for s in bench.doc_to_sentences(d, i)]
    assert len(sentences) == 4
    assert sentences[0].tags == ["B-CHEMICAL", "O", "B-DISEASE", "I-DISEASE", "O"]
    assert " " not in sentences[2].words  # whitespace tokens are not words
    decoded: List[List[Ent]] = [[] for _ in docs]
    for s in sentences:
        decoded[s.doc_index].extend(bench.sentence_char_spans(docs[s.doc_index], s, s.tags))
    assert [sorted(d) for d in decoded] == [char_spans(doc) for doc in docs]
    predicted = bench.predicted_docs(docs, sentences, [s.tags for s in sentences])
    assert [char_spans(p) for p in predicted] == [char_spans(d) for d in docs]
    scores = bench.score(predicted, docs, ["CHEMICAL", "DISEASE"])
    assert scores["micro"]["f"] == 100.0


def test_decode_bio_repairs_orphan_inside(bench: ModuleType) -> None:
    tags = ["I-DISEASE", "I-DISEASE", "O", "B-CHEMICAL", "I-DISEASE", "B-CHEMICAL",
            "B-CHEMICAL", "I-CHEMICAL"]
    assert bench.decode_bio(tags) == [(0, 2, "DISEASE"), (3, 4, "CHEMICAL"),
                                      (4, 5, "DISEASE"), (5, 6, "CHEMICAL"),
                                      (6, 8, "CHEMICAL")]


def test_truncation_is_counted(bench: ModuleType, tiny_bert: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_bert), use_fast=True)
    docs = make_docs(spacy.blank("en").vocab)
    sentences = [s for i, d in enumerate(docs) for s in bench.doc_to_sentences(d, i)]
    tags = bench.tag_scheme(["CHEMICAL", "DISEASE"])
    label2id = {t: i for i, t in enumerate(tags)}
    encoded, stats = bench.encode(sentences, tokenizer, label2id, max_length=64)
    assert stats.truncated_words == 0 and stats.sentences == 4
    # "lidocaine" is two wordpieces; only the first one is labelled
    assert encoded[0].labels[:4] == [-100, label2id["B-CHEMICAL"], -100, label2id["O"]]
    # 5 wordpieces = [CLS] + 3 + [SEP]: the last sentence keeps 3 of its 8 words
    encoded, stats = bench.encode(sentences[3:], tokenizer, label2id, max_length=5)
    assert (stats.truncated_words, stats.truncated_sentences) == (5, 1)
    assert stats.truncated_entity_words == 2  # lithium carbonate
    assert encoded[0].truncated == [3, 4, 5, 6, 7]
    assert len(encoded[0].input_ids) == 5


def test_end_to_end(bench: ModuleType, tiny_bert: Path, tmp_path: Path) -> None:
    vocab = spacy.blank("en").vocab
    path = tmp_path / "tiny.spacy"
    DocBin(docs=make_docs(vocab), store_user_data=True).to_disk(path)
    pipeline = tmp_path / "blank_pipeline"
    spacy.blank("en").to_disk(pipeline)  # predicts nothing: F1 0
    spacy_model: Optional[str] = str(pipeline)
    result = bench.run_baseline(path, path, model_name=str(tiny_bert), epochs=1,
                                batch_size=2, max_length=16, spacy_model=spacy_model)
    assert result["corpus"] == "tiny"
    assert set(result["hf"]["micro"]) >= {"p", "r", "f", "tp", "fp", "fn"}
    assert set(result["hf"]["labels"]) == {"CHEMICAL", "DISEASE"}
    assert result["hf"]["micro"]["tp"] + result["hf"]["micro"]["fn"] == 7
    assert result["hf"]["train_steps"] == 2 and result["hf"]["train_seconds"] >= 0
    assert result["spacy"]["micro"]["f"] == 0.0
    assert result["difference_f"] == result["hf"]["micro"]["f"]
    assert result["data"]["dev"]["truncated_words"] == 0
    table = bench.report(result)
    assert "| tiny |" in table and "HF fine-tune F1" in table

