"""Retrieval benchmarks, measured side by side in one run.

``bench_search``: a synthetic corpus of N chunks; hybrid search latency next to an exact
brute-force search over the very same vectors. ``bench_ingest``: a dataset ingested for
real next to the same chunks through the embedding model alone.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.chunking import indexed_text
from retrieval.embedding import TextEmbedder
from retrieval.eval import load_dataset
from retrieval.index import DocumentChunks, SearchIndex
from retrieval.types import Chunk

CHUNKS_PER_DOCUMENT = 10


class SyntheticEmbedder:
    """Seeded random unit vectors for synthetic chunks; the real model for queries.

    Embedding 100,000 chunks with the packaged model would take most of an hour on two
    cores; the search path (query embedding, Chroma, BM25, fusion) stays the real one.
    """

    def __init__(self, real: TextEmbedder, seed: int = 0) -> None:
        self.real = real
        self.name = real.name
        self.dimension = real.dimension
        self._rng = np.random.default_rng(seed)
        self.vectors: list[np.ndarray] = []

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors.append(vectors)
        return vectors

    def embed_query_array(self, text: str) -> np.ndarray:
        return self.real.embed_query_array(text)


def _percentiles(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
    }


def bench_search(
    *,
    chunks: int,
    vocabulary: Sequence[str],
    embedder: TextEmbedder,
    queries: int = 200,
    k: int = 5,
    root: Path | None = None,
    seed: int = 7,
) -> dict[str, Any]:
    """Hybrid search vs exact brute force over the same vectors, on N synthetic chunks."""
    rng = random.Random(seed)
    words = list(vocabulary)
    root = root or Path(tempfile.mkdtemp(prefix="guichet-bench-"))
    synthetic = SyntheticEmbedder(embedder, seed=seed)
    index = SearchIndex(root=root, embedder=synthetic)
    documents = []
    for d in range(max(1, chunks // CHUNKS_PER_DOCUMENT)):
        title = " ".join(rng.choices(words, k=5))
        documents.append(
            DocumentChunks(
                f"d{d}",
                1,
                [
                    Chunk(
                        f"d{d}@v1#{o}",
                        f"d{d}",
                        1,
                        o,
                        title,
                        "",
                        None,
                        " ".join(rng.choices(words, k=120)),
                    )
                    for o in range(CHUNKS_PER_DOCUMENT)
                ],
            )
        )
    started = time.perf_counter()
    index.replace_documents(corpus="bench", documents=documents)
    ingest_s = time.perf_counter() - started
    matrix = np.vstack(synthetic.vectors)
    # Distinct queries: the query embedder caches repeated ones.
    asked = [" ".join(rng.choices(words, k=rng.randint(4, 9))) + f" {i}" for i in range(queries)]
    started = time.perf_counter()
    index.search(corpus="bench", query="préparation", k=k)  # builds the lexical index
    first_search_s = time.perf_counter() - started
    hybrid, exact, embed = [], [], []
    for query in asked:
        t0 = time.perf_counter()
        index.search(corpus="bench", query=query, k=k)
        hybrid.append(1000 * (time.perf_counter() - t0))
        t0 = time.perf_counter()
        vector = embedder.embed_query_array(query + " ")  # not cached: a fresh embedding
        t1 = time.perf_counter()
        scores = matrix @ vector
        top = np.argpartition(-scores, k)[:k]
        top[np.argsort(-scores[top])]
        t2 = time.perf_counter()
        embed.append(1000 * (t1 - t0))
        exact.append(1000 * (t2 - t0))
    index.close()
    return {
        "chunks": int(matrix.shape[0]),
        "queries": queries,
        "hybrid": _percentiles(hybrid),
        "exact_brute_force": _percentiles(exact),
        "query_embedding": _percentiles(embed),
        "p50_ms": round(float(np.percentile(hybrid, 50)), 2),
        "p95_ms": round(float(np.percentile(hybrid, 95)), 2),
        "ingest_s": round(ingest_s, 1),
        "first_search_s": round(first_search_s, 2),
    }


def bench_ingest(
    *, dataset: Path, embedder: TextEmbedder, root: Path | None = None
) -> dict[str, Any]:
    """Total ingest (parse, chunk, embed, index) next to embedding the same chunks alone."""
    root = root or Path(tempfile.mkdtemp(prefix="guichet-bench-ingest-"))
    documents, _ = load_dataset(dataset)
    texts = [indexed_text(c) for d in documents for c in d.chunks]
    embedder.embed_documents_array(texts[:32])  # warm-up outside both timings
    started = time.perf_counter()
    embedder.embed_documents_array(texts)
    embed_only_s = time.perf_counter() - started
    index = SearchIndex(root=root, embedder=embedder)
    started = time.perf_counter()
    parsed, _ = load_dataset(dataset)
    index.replace_documents(corpus="bench-ingest", documents=parsed)
    index.search(corpus="bench-ingest", query="préparation", k=1)  # lexical index built
    total_s = time.perf_counter() - started
    index.close()
    return {
        "dataset": dataset.name,
        "documents": len(documents),
        "chunks": len(texts),
        "total_s": round(total_s, 2),
        "embed_only_s": round(embed_only_s, 2),
        "overhead_ratio": round(total_s / embed_only_s, 3) if embed_only_s else None,
        "documents_per_s": round(len(documents) / total_s, 1),
        "chunks_per_s": round(len(texts) / total_s, 1),
    }
