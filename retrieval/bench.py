"""Retrieval benchmarks, measured side by side in one run.

``bench_search``: a synthetic corpus of N chunks; hybrid search latency next to an exact
brute-force search over the very same vectors, and the first search after another
process (another host, as far as the catalog can tell) changed one document, next to a
normal search. ``bench_ingest``: a dataset ingested for real next to the same chunks
through the embedding model alone.
"""

from __future__ import annotations

import multiprocessing
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.catalog import private_engine
from retrieval.chunking import indexed_text
from retrieval.embedding import TextEmbedder
from retrieval.eval import load_dataset
from retrieval.index import DocumentChunks, SearchIndex
from retrieval.types import Chunk

CHUNKS_PER_DOCUMENT = 10
# Documents another process changes, one at a time, each followed by a timed search.
CHANGES = 20


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


class _RandomVectors:
    """Seeded random unit vectors for every text: the other host's embedder (it only
    writes, and what it writes is synthetic)."""

    def __init__(self, name: str, dimension: int, seed: int) -> None:
        self.name, self.dimension = name, dimension
        self._rng = np.random.default_rng(seed)

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_query_array(self, text: str) -> np.ndarray:
        return self.embed_documents_array([text])[0]


def _synthetic_document(
    rng: random.Random, words: list[str], d: int, version: int
) -> DocumentChunks:
    title = " ".join(rng.choices(words, k=5))
    return DocumentChunks(
        f"d{d}",
        version,
        [
            Chunk(
                f"d{d}@v{version}#{o}",
                f"d{d}",
                version,
                o,
                title,
                "",
                None,
                " ".join(rng.choices(words, k=120)),
            )
            for o in range(CHUNKS_PER_DOCUMENT)
        ],
    )


def _other_host(
    connection: Any, url: str, root: str, name: str, dimension: int, words: list[str]
) -> None:
    """Another process with its own data folder on the same catalog database: changes
    the document it is told to (a new version), then says so."""
    engine = private_engine(url)
    index = SearchIndex(
        root=Path(root), embedder=_RandomVectors(name, dimension, seed=11), database=engine
    )
    rng = random.Random(11)
    try:
        while (d := connection.recv()) is not None:
            index.replace_documents(
                corpus="bench", documents=[_synthetic_document(rng, words, d, 2)]
            )
            connection.send(d)
    finally:
        index.close()
        engine.dispose()


def _search_after_changes(
    index: SearchIndex, *, url: str, root: Path, words: list[str], queries: list[str], k: int
) -> tuple[list[float], list[float]]:
    """Normal searches, and searches right after another process changed a document,
    alternated so that both see the same machine load."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    other = context.Process(
        target=_other_host,
        args=(theirs, url, str(root / "other-host"), index.embedder.name,
              index.embedder.dimension, words),
    )  # fmt: skip
    other.start()
    normal, after_change = [], []
    try:
        for i in range(CHANGES):
            t0 = time.perf_counter()
            index.search(corpus="bench", query=queries[2 * i], k=k)
            normal.append(1000 * (time.perf_counter() - t0))
            ours.send(i)
            ours.recv()
            t0 = time.perf_counter()
            index.search(corpus="bench", query=queries[2 * i + 1], k=k)
            after_change.append(1000 * (time.perf_counter() - t0))
            if index.lexical_index("bench").active.get(f"d{i}") != 2:
                raise RuntimeError("the timed search did not see the other process's change")
    finally:
        ours.send(None)
        other.join(timeout=120)
    return normal, after_change


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
    database_url: str | None = None,
    seed: int = 7,
) -> dict[str, Any]:
    """Hybrid search vs exact brute force over the same vectors, on N synthetic chunks;
    then searches right after another process changed a document vs normal searches.

    The catalog is in ``database_url`` (a throwaway database: its catalog tables are
    created), by default a SQLite file under ``root``.
    """
    rng = random.Random(seed)
    words = list(vocabulary)
    root = root or Path(tempfile.mkdtemp(prefix="guichet-bench-"))
    url = database_url or f"sqlite:///{(root / 'bench-catalog.db').resolve()}"
    synthetic = SyntheticEmbedder(embedder, seed=seed)
    engine = private_engine(url)
    index = SearchIndex(root=root / "host", embedder=synthetic, database=engine)
    documents = [
        _synthetic_document(rng, words, d, 1) for d in range(max(1, chunks // CHUNKS_PER_DOCUMENT))
    ]
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
    changes = [
        " ".join(rng.choices(words, k=rng.randint(4, 9))) + f" c{i}" for i in range(2 * CHANGES)
    ]
    normal, after_change = _search_after_changes(
        index, url=url, root=root, words=words, queries=changes, k=k
    )
    index.close()
    engine.dispose()
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
        "changes": CHANGES,
        "search_normal": _percentiles(normal),
        "search_after_change": _percentiles(after_change),
        "after_change_ratio_p50": round(
            float(np.percentile(after_change, 50) / np.percentile(normal, 50)), 2
        ),
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
