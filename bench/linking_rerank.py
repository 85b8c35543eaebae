"""Could a trained ranker, or the transformer's context, rank the linker's candidates
better than its fixed score? Cross-validated on gold mentions.

For every gold CHEMICAL/DISEASE mention of the dev files (ids removed, as
`evaluate-linking` does) the entity linker proposes its top ``--candidates``
candidates. Each candidate gets the features below; a logistic regression per label,
trained on the other folds' documents (mentions whose gold ids are a candidate, with
at least two candidates), picks one candidate per mention of the held-out fold. The
table compares the share of mentions whose top candidate is right (the NIL threshold
set aside) for the linker's own order, the ranker on string features, and, with
``--context PIPELINE``, the ranker with two context features more: the cosine between
the mention's vector from the pipeline's transformer (mean over its word pieces) and
the mean vector of the candidate's training mentions (``--train`` files), and whether
the candidate has training mentions at all.

String features: the linker's score, its rank, the gap to the best score, the training
prior of the ids for the mention text, whether the text is one of the concept's
vocabulary names, whether the preferred name has the text's words, the id's kind (MeSH
descriptor, supplementary concept, OMIM), the log training count of the ids, whether
another mention text of the document has the candidate as its best, the character
3-gram cosine of the text and the preferred name, and whether the candidate joins
several ids.

    python bench/linking_rerank.py corpus/linking_kb.bin corpus/bc5cdr_dev.spacy \
        corpus/ncbi_disease_dev.spacy --context training/model-best \
        --train corpus/bc5cdr_train.spacy corpus/ncbi_disease_train.spacy
"""
import argparse
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import numpy
import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from spacy_biobert.extensions import get_kb_candidates, get_kb_ids, install_extensions
from spacy_biobert.linking.candidates import char_ngrams
from spacy_biobert.linking.component import EntityLinker
from spacy_biobert.linking.evaluation import strip_gold
from spacy_biobert.linking.kb import LinkingKB
from spacy_biobert.linking.normalize import normalize, token_key

LABELS = ["CHEMICAL", "DISEASE"]
Vectors = Dict[Tuple[int, int], numpy.ndarray]


@dataclass
class Mention:
    corpus: str
    doc: int
    label: str
    features: List[List[float]]
    gold: int  # index of the right candidate, -1 when none is


@dataclass
class Context:
    """Mention vectors of the pipeline's transformer and the training centroids."""

    nlp: Language
    centroids: Dict[str, numpy.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        trf = next((p for _, p in self.nlp.pipeline if type(p).__name__ == "Transformer"),
                   None)
        if trf is None:
            raise SystemExit("--context: the pipeline has no transformer component")
        self.transformer = trf

    def vectors(self, doc: Doc) -> Vectors:
        """The unit vector of each entity of ``doc`` (its word pieces' mean)."""
        out = self.transformer(Doc(self.nlp.vocab).from_bytes(doc.to_bytes()))._.trf_data
        hidden = out.model_output.last_hidden_state
        hidden = numpy.asarray(hidden).reshape(-1, hidden.shape[-1])
        vectors: Vectors = {}
        for ent in doc.ents:
            rows = out.align[ent.start:ent.end].dataXd.ravel()
            if len(rows):
                vector = hidden[rows].mean(0)
                vectors[(ent.start, ent.end)] = vector / (numpy.linalg.norm(vector) or 1.0)
        return vectors

    def fit(self, kb: LinkingKB, docs: Sequence[Doc]) -> None:
        """Centroids of the training mentions of each (canonical) id string."""
        sums: Dict[str, List[numpy.ndarray]] = defaultdict(list)
        for doc in docs:
            vectors = self.vectors(doc)
            for ent in doc.ents:
                ids = get_kb_ids(ent)
                if ids and (ent.start, ent.end) in vectors:
                    key = "|".join(kb.canonical(i) for i in ids)
                    sums[key].append(vectors[(ent.start, ent.end)])
        for key, rows in sums.items():
            mean = numpy.mean(rows, axis=0)
            self.centroids[key] = mean / (numpy.linalg.norm(mean) or 1.0)


def _cosine(a: str, b: str) -> float:
    x, y = char_ngrams(a), char_ngrams(b)
    dot = sum(v * y.get(k, 0) for k, v in x.items())
    norm = math.sqrt(sum(v * v for v in x.values()) * sum(v * v for v in y.values()))
    return dot / norm if norm else 0.0


def _training_counts(kb: LinkingKB) -> Counter:
    counts: Counter = Counter()
    for table in kb.priors.values():
        for prior in table.values():
            counts.update(prior)
    return counts


def _features(kb: LinkingKB, counts: Counter, ent: Span, candidates: List[Tuple[str, float]],
              others: Set[str], vector: Optional[numpy.ndarray],
              context: Optional[Context]) -> List[List[float]]:
    """One feature row per candidate of ``ent`` (see the module docs)."""
    key = normalize(ent.text)
    prior = kb.prior_for(ent.label_, key)
    total = sum(prior.values()) or 1
    named = set(kb.concepts_for(ent.label_, key))
    rows = []
    for position, (ids, score) in enumerate(candidates):
        first = ids.split("|")[0]
        row = [score, position, score - candidates[0][1], prior.get(ids, 0) / total,
               ids in named, kb.name_key(first) == token_key(key), ids.startswith("MESH:D"),
               ids.startswith("MESH:C"), ids.startswith("OMIM:"), math.log1p(counts[ids]),
               ids in others, _cosine(key, normalize(kb.name_of(first) or "")), "|" in ids]
        if context is not None:
            centroid = context.centroids.get("|".join(kb.canonical(i) for i in ids.split("|")))
            row += [float(vector @ centroid) if centroid is not None and vector is not None
                    else 0.0, centroid is not None]
        rows.append([float(x) for x in row])
    return rows


def collect(nlp: Language, linker: EntityLinker, paths: Sequence[Path],
            context: Optional[Context]) -> List[Mention]:
    """Candidates and features of every gold mention of ``paths``."""
    kb = linker._kb()
    counts = _training_counts(kb)
    mentions = []
    for path in paths:
        for number, doc in enumerate(DocBin(store_user_data=True).from_disk(path)
                                     .get_docs(nlp.vocab)):
            gold = strip_gold(doc, LABELS)
            vectors = context.vectors(doc) if context is not None else {}
            linker(doc)
            best = {(e.start, e.end): (e.text.lower(), get_kb_candidates(e)) for e in doc.ents}
            for ent, ids in gold:
                text, candidates = best[(ent.start, ent.end)]
                if not candidates:
                    mentions.append(Mention(path.stem, number, ent.label_, [], -1))
                    continue
                others = {c[0][0] for t, c in best.values() if c and t != text}
                want = {kb.canonical(i) for i in ids}
                right = [i for i, (c, _) in enumerate(candidates)
                         if {kb.canonical(x) for x in c.split("|")} == want]
                rows = _features(kb, counts, ent, candidates, others,
                                 vectors.get((ent.start, ent.end)), context)
                mentions.append(Mention(path.stem, number, ent.label_, rows,
                                        right[0] if right else -1))
    return mentions


def cross_validate(mentions: List[Mention], folds: int, columns: int
                   ) -> Dict[Tuple[str, str], List[int]]:
    """Per (corpus, label): [mentions, linker's top right, ranker's top right]."""
    from sklearn.linear_model import LogisticRegression

    out: Dict[Tuple[str, str], List[int]] = defaultdict(lambda: [0, 0, 0])
    for label in LABELS:
        for fold in range(folds):
            train = [m for m in mentions if m.label == label and m.doc % folds != fold
                     and m.gold >= 0 and len(m.features) > 1]
            test = [m for m in mentions if m.label == label and m.doc % folds == fold]
            ranker = None  # nothing to learn from: the linker's order stands
            if train:
                x = numpy.array([row[:columns] for m in train for row in m.features])
                y = numpy.array([int(i == m.gold) for m in train
                                 for i in range(len(m.features))])
                ranker = LogisticRegression(max_iter=2000).fit(x, y)
            for m in test:
                row = out[(m.corpus, label)]
                row[0] += 1
                if m.features:
                    row[1] += m.gold == 0
                    best = 0 if ranker is None else int(numpy.argmax(ranker.decision_function(
                        numpy.array([f[:columns] for f in m.features]))))
                    row[2] += best == m.gold
    return out


def main(argv: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kb", type=Path, help="KB file from build-kb")
    parser.add_argument("dev", type=Path, nargs="+", help=".spacy files with gold ids")
    parser.add_argument("--context", help="Pipeline whose transformer gives mention vectors")
    parser.add_argument("--train", type=Path, nargs="*", default=[],
                        help="Training .spacy files for the concepts' mean vectors")
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.context and not args.train:
        parser.error("--context needs --train (the files of the concepts' mean vectors)")
    install_extensions()
    nlp = spacy.load(args.context) if args.context else spacy.blank("en")
    linker = EntityLinker(nlp, kb_path=str(args.kb), top_k=args.candidates)
    context = Context(nlp) if args.context else None
    if context is not None:
        context.fit(linker._kb(), [d for p in args.train
                                   for d in DocBin(store_user_data=True).from_disk(p)
                                   .get_docs(nlp.vocab)])
    mentions = collect(nlp, linker, args.dev, context)
    strings = cross_validate(mentions, args.folds, 13)
    both = cross_validate(mentions, args.folds, 15) if context is not None else {}
    rows = []
    print("| corpus | label | mentions | linker | ranker, strings | ranker, + context |")
    print("|---|---|---:|---:|---:|---:|")
    for (corpus, label), (n, linked, ranked) in sorted(strings.items()):
        row = {"corpus": corpus, "label": label, "mentions": n,
               "linker": round(100 * linked / n, 2), "ranker": round(100 * ranked / n, 2),
               "ranker_context": (round(100 * both[(corpus, label)][2] / n, 2)
                                  if both else None)}
        rows.append(row)
        print(f"| {corpus} | {label} | {n} | {row['linker']:.2f} | {row['ranker']:.2f} | "
              f"{'–' if row['ranker_context'] is None else row['ranker_context']} |")
    if args.output:
        args.output.write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
