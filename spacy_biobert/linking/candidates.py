"""Candidate generation: exact normalized aliases first, then character 3-gram TF-IDF.

The n-gram index is a sparse ``n-grams x aliases`` matrix of L2-normalized TF-IDF
weights (the candidate generator of scispacy and of Sung et al. 2020, BioSyn, without
the approximate-neighbour library): a query's cosine similarity to every alias is one
sparse vector-matrix product, a few milliseconds for a 10^6-alias vocabulary. The
matrix holds each alias's n-gram counts (one byte each) and the weights are applied
at query time: the n-gram's IDF to the query, one over the alias's norm to the scores.
"""
import math
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy import sparse

from .tables import StringTable

NGRAM = 3


def char_ngrams(key: str, n: int = NGRAM) -> Counter:
    """Character n-grams of a normalized key, padded with one space each side."""
    padded = f" {key} "
    if len(padded) < n:
        return Counter([padded])
    return Counter(padded[i:i + n] for i in range(len(padded) - n + 1))


class NgramIndex:
    """Cosine nearest neighbours of a key among a fixed list of alias keys."""

    def __init__(self, keys: StringTable, vocab: Dict[str, int], idf: np.ndarray,
                 matrix: sparse.csr_matrix, inverse_norms: Optional[np.ndarray] = None) -> None:
        """keys: the alias keys (column order); vocab: n-gram -> row; idf: per row;
        matrix: ``len(vocab) x len(keys)`` n-gram counts; inverse_norms: one over each
        alias's TF-IDF norm (None: the matrix holds the normalized weights themselves,
        as KB files before format 3 do)."""
        self.keys = keys
        self.vocab = vocab
        self.idf = idf
        self.matrix = matrix
        self.inverse_norms = inverse_norms

    @classmethod
    def build(cls, keys: Sequence[str], max_key_length: int = 80) -> "NgramIndex":
        """Index the keys (longer ones are left to exact lookup).

        keys (Sequence[str]): Normalized alias keys, no duplicates.
        max_key_length (int): Keys longer than this are not indexed.
        """
        kept = [k for k in keys if 0 < len(k) <= max_key_length]
        vocab: Dict[str, int] = {}
        rows: List[int] = []
        cols: List[int] = []
        counts: List[float] = []
        for col, key in enumerate(kept):
            for gram, count in char_ngrams(key).items():
                rows.append(vocab.setdefault(gram, len(vocab)))
                cols.append(col)
                counts.append(count)
        row_arr = np.asarray(rows, dtype=np.int32)
        df = np.bincount(row_arr, minlength=len(vocab)).astype(np.float32)
        idf = (np.log((1 + len(kept)) / (1 + df)) + 1).astype(np.float32)
        data = np.asarray(counts, dtype=np.float32) * idf[row_arr]
        col_arr = np.asarray(cols, dtype=np.int32)
        norms = np.sqrt(np.bincount(col_arr, weights=data * data, minlength=len(kept)))
        inverse = (1.0 / np.maximum(norms, 1e-12)).astype(np.float32)
        matrix = sparse.csr_matrix((np.asarray(counts, dtype=np.uint8), (row_arr, col_arr)),
                                   shape=(len(vocab), len(kept)), dtype=np.uint8)
        return cls(StringTable.from_strings(kept), vocab, idf, matrix, inverse)

    def _query_vector(self, key: str) -> Tuple[np.ndarray, np.ndarray]:
        rows, weights = [], []
        for gram, count in char_ngrams(key).items():
            row = self.vocab.get(gram)
            if row is not None:
                rows.append(row)
                weights.append(count * float(self.idf[row]))
        vec = np.asarray(weights, dtype=np.float32)
        norm = math.sqrt(float(vec @ vec)) if len(vec) else 0.0
        # n-grams unknown to the index still count in the query's norm
        unknown = sum(c for g, c in char_ngrams(key).items() if g not in self.vocab)
        norm = math.sqrt(norm * norm + unknown * float(self.idf.max(initial=1.0)) ** 2)
        return np.asarray(rows, dtype=np.int64), (vec / norm if norm else vec)

    def nearest(self, key: str, k: int = 10) -> List[Tuple[str, float]]:
        """The k alias keys most similar to ``key``, with cosine similarity, best first."""
        rows, weights = self._query_vector(key)
        if not len(rows) or not len(self.keys):
            return []
        sub = self.matrix[rows]
        if self.inverse_norms is not None:
            weights = weights * self.idf[rows]
        scores = np.asarray(sub.T @ weights).ravel() if sub.nnz else np.zeros(0)
        if self.inverse_norms is not None and scores.size:
            scores = scores * self.inverse_norms
        if not scores.size or not scores.any():
            return []
        top = min(k, scores.size)
        best = np.argpartition(-scores, top - 1)[:top]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.keys[int(i)], float(scores[i])) for i in best if scores[i] > 0]

    def to_dict(self) -> Dict[str, object]:
        """Plain arrays for msgpack."""
        m = self.matrix
        out = {"keys": self.keys.to_dict(), "vocab": self.vocab, "idf": self.idf.tobytes(),
               "shape": list(m.shape), "data": m.data.tobytes(),
               "indices": m.indices.astype(np.int32).tobytes(),
               "indptr": m.indptr.astype(np.int64).tobytes()}
        if self.inverse_norms is not None:
            out["inverse_norms"] = self.inverse_norms.tobytes()
        return out

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "NgramIndex":
        """Inverse of :meth:`to_dict`."""
        inverse = data.get("inverse_norms")
        matrix = sparse.csr_matrix(
            (np.frombuffer(data["data"], dtype=np.float32 if inverse is None else np.uint8),
             np.frombuffer(data["indices"], dtype=np.int32),
             np.frombuffer(data["indptr"], dtype=np.int64)),
            shape=tuple(data["shape"]))
        idf = np.frombuffer(data["idf"], dtype=np.float32)
        return cls(StringTable.from_dict(data["keys"]), data["vocab"], idf, matrix,
                   None if inverse is None else np.frombuffer(inverse, dtype=np.float32))
