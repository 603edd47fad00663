"""The search index of all corpora: catalog (SQL) + dense (Chroma) + lexical (BM25).

Writes are atomic per document: the chunks of a new version are written to the catalog
and to Chroma first, invisible to search; then one catalog transaction makes the new
version active; then the old version's chunks are deleted. Search only returns chunks of
active versions, so it sees the old version or the new one, never a mix, whatever happens
in between (an exception, ``kill -9``). Chunks left over by an interrupted write are
garbage-collected on the next start or write.

Several processes, on one host or several, may share the catalog's database: its
per-corpus generation tells each one when its in-memory lexical index is stale, and its
change log which documents to refresh (see ``lexical.py``); the vector store reloads
embedded Chroma when another process wrote to it (see ``vectors.py``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from retrieval.acronyms import Acronyms
from retrieval.analysis import FrenchAnalyzer
from retrieval.catalog import Catalog, private_engine
from retrieval.chunking import chunk_id, indexed_text
from retrieval.embedding import TextEmbedder
from retrieval.fusion import Candidate, FusionRule, fuse, rule_for
from retrieval.legacy import import_legacy_catalog
from retrieval.lexical import LexicalIndex, LexicalIndexes
from retrieval.reranking import RERANK_DEPTH, CrossEncoderReranker, PairScorer
from retrieval.spelling import TERM_LETTERS, letters_apart, one_letter_away, written_out
from retrieval.terms import chunk_terms, refresh_stored_terms
from retrieval.types import Chunk, DocumentChunks, Passage
from retrieval.vectors import DenseHit, VectorStore

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

# Candidates each retriever proposes before fusion.
CANDIDATE_POOL = 50
# Chunks embedded and written per step of an ingestion (also the progress granularity).
WRITE_BATCH = 256
_WORD = re.compile(r"[^\W\d_]+")
# Terms shorter than this are too short for a spelling to be told from another's.
MIN_SPELLED_TERM = 6


class SearchIndex:
    """Hybrid (BM25 + dense) search over per-corpus indexes kept under one folder.

    ``database`` is the SQL database holding the catalog (the application's engine, its
    schema migrated); without it the catalog is a SQLite file of its own under ``root``
    (``retrieval-catalog.db``), for tools that run without an application.
    ``root`` holds embedded Chroma (``chroma/``, unless ``chroma_url`` points to a Chroma
    server) and the inter-process write lock of embedded Chroma.
    ``chroma_database`` names this instance's Chroma database (created on first use), so
    several instances can share one Chroma server.
    ``reranker_model`` (a local cross-encoder folder) adds a reranking step.
    """

    def __init__(
        self,
        *,
        root: Path,
        embedder: TextEmbedder,
        database: Engine | None = None,
        chroma_url: str | None = None,
        chroma_database: str | None = None,
        reranker_model: str | None = None,
        reranker: PairScorer | None = None,
        fusion: FusionRule | None = None,
    ) -> None:
        self.root = Path(root)
        self.fusion = fusion or rule_for(embedder.name)
        self.root.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        if database is None:
            database = private_engine(f"sqlite:///{(self.root / 'retrieval-catalog.db').resolve()}")
            database.dispose()
        self.catalog = Catalog(database)
        import_legacy_catalog(catalog=self.catalog, root=self.root)
        self.vectors = VectorStore(
            root=self.root,
            catalog=self.catalog,
            chroma_url=chroma_url,
            embedder=embedder.name,
            dimension=embedder.dimension,
            database=chroma_database,
        )
        self.reranker: PairScorer | None = reranker
        if self.reranker is None and reranker_model:
            self.reranker = CrossEncoderReranker(reranker_model)
        self._analyzer = FrenchAnalyzer()
        refresh_stored_terms(self.catalog, self._analyzer)
        self._lexical = LexicalIndexes(self.catalog)
        self._acronyms = Acronyms(self.catalog)
        self.collect_garbage()

    def close(self) -> None:
        """Release the catalog connection and the Chroma client of this thread/process."""
        self.vectors.close()
        self.catalog.close()

    # -- writes ---------------------------------------------------------------------------

    def replace_document(
        self,
        *,
        corpus: str,
        document_id: str,
        version: int,
        chunks: list[Chunk],
        progress: Progress | None = None,
    ) -> None:
        """Make ``chunks`` the searchable content of ``document_id``, atomically."""
        self.replace_documents(
            corpus=corpus,
            documents=[DocumentChunks(document_id, version, chunks)],
            progress=progress,
        )

    def replace_documents(
        self,
        *,
        corpus: str,
        documents: Iterable[DocumentChunks],
        progress: Progress | None = None,
    ) -> None:
        """Bulk form of ``replace_document``: embeddings are batched across documents.

        Each document still switches atomically on its own; the lexical index is
        refreshed once, lazily, at the next search, not once per document. Re-sending the active
        version with identical chunks is a no-op. New content should come with a new
        version number: re-sending the active version with different chunks overwrites it
        in place, which is not atomic.
        """
        todo = [d for d in documents if not self._already_active(corpus, d)]
        for doc in todo:
            doc.validate()
        total = sum(len(d.chunks) for d in todo)
        if not todo:
            if progress:
                progress(0, 0)
            return
        self.collect_garbage(corpus)
        versions = [(d.document_id, d.version) for d in todo]
        self.catalog.pending.begin(corpus, versions)
        done = 0
        try:
            for group in DocumentChunks.packed(todo, WRITE_BATCH):
                # A heartbeat: only a writer silent for PENDING_EXPIRY_S is presumed dead
                # by other hosts, whatever the length of the whole ingestion.
                self.catalog.pending.begin(corpus, [(d.document_id, d.version) for d in group])
                chunks = [c for d in group for c in d.chunks]
                for start in range(0, len(chunks), WRITE_BATCH):
                    batch = chunks[start : start + WRITE_BATCH]
                    self._write_batch(corpus, batch)
                    done += len(batch)
                    if progress:
                        progress(done, total)
                if not chunks and progress:
                    progress(done, total)
                self.catalog.activate(corpus, [(d.document_id, d.version) for d in group])
                self._drop_superseded(corpus, {d.document_id: d for d in group})
        except BaseException:
            logger.warning("replace interrupted documents=%d; cleaning up", len(todo))
            self._abandon(corpus, todo)
            raise
        finally:
            self.catalog.pending.forget_inflight(corpus, versions)
        logger.info("indexed corpus documents=%d chunks=%d", len(todo), total)

    def _already_active(self, corpus: str, doc: DocumentChunks) -> bool:
        if self.catalog.active_versions_of(corpus, [doc.document_id]).get(doc.document_id) != (
            doc.version
        ):
            return False
        return self.catalog.document_chunks(corpus, doc.document_id) == list(doc.chunks)

    def _write_batch(self, corpus: str, chunks: Sequence[Chunk]) -> None:
        texts = [indexed_text(c) for c in chunks]
        rows = [(c, *chunk_terms(self._analyzer, c)) for c in chunks]
        vectors = self.embedder.embed_documents_array(texts)
        metadatas: list[dict[str, str | int]] = [
            {"document_id": c.document_id, "version": c.version, "ordinal": c.ordinal}
            for c in chunks
        ]
        with self.vectors.writing():
            # Catalog rows first: they are the record garbage collection works from.
            self.catalog.insert_chunks(corpus, rows)
            self.vectors.upsert(corpus, [c.chunk_id for c in chunks], vectors, metadatas)

    def _drop_superseded(self, corpus: str, docs: dict[str, DocumentChunks]) -> None:
        """Delete chunks of other versions, and stale ids of a version re-written in place."""
        stale = self.catalog.pending.stale_versions(corpus, list(docs))
        ids = [i for s in stale for i in s.chunk_ids]
        for doc_id, doc in docs.items():
            keep = {c.chunk_id for c in doc.chunks}
            ids += [
                i for i in self.catalog.chunk_ids_of(corpus, doc_id, doc.version) if i not in keep
            ]
        self._delete_chunks(corpus, ids)

    def _delete_chunks(self, corpus: str, ids: list[str]) -> None:
        if not ids:
            return
        with self.vectors.writing():
            self.vectors.delete(corpus, ids)
            self.catalog.delete_chunks(corpus, ids)

    def _abandon(self, corpus: str, docs: list[DocumentChunks]) -> None:
        """Best-effort removal of the not-yet-active chunks of an interrupted write."""
        try:
            active = self.catalog.active_versions_of(corpus, [d.document_id for d in docs])
            pending = [d for d in docs if active.get(d.document_id) != d.version]
            self.catalog.pending.end(corpus, [(d.document_id, d.version) for d in pending])
            self._delete_chunks(corpus, [c.chunk_id for d in pending for c in d.chunks])
        except Exception:  # the next start or write collects what is left
            logger.exception("cleanup after interrupted write failed")

    def delete_document(self, *, corpus: str, document_id: str) -> None:
        """Remove a document from search (both indexes)."""
        self.catalog.deactivate(corpus, [document_id])
        for stale in self.catalog.pending.stale_versions(corpus, [document_id]):
            self._delete_chunks(corpus, stale.chunk_ids)

    def drop_corpus(self, *, corpus: str) -> None:
        """Remove a whole corpus: its collection, catalog rows and lexical index."""
        self.catalog.deactivate(corpus)
        with self.vectors.writing():
            self.vectors.drop(corpus)
            self.catalog.forget_corpus(corpus)
        self._lexical.forget(corpus)

    def collect_garbage(self, corpus: str | None = None) -> int:
        """Delete chunks that are neither active nor being written; returns how many."""
        stale = self.catalog.pending.stale_versions(corpus)
        count = 0
        for version in stale:
            self._delete_chunks(version.corpus, version.chunk_ids)
            count += len(version.chunk_ids)
        if count:
            logger.info("garbage-collected chunks=%d versions=%d", count, len(stale))
        return count

    # -- reads ----------------------------------------------------------------------------

    def lexical_index(self, corpus: str) -> LexicalIndex:
        """The corpus's BM25 index at the catalog's current generation."""
        return self._lexical.current(corpus)

    def term_weights(self, *, corpus: str, text: str) -> dict[str, tuple[float, bool]]:
        """The analysed terms of ``text`` with their idf in ``corpus`` (how much finding
        each one says about what the text is about) and whether any chunk holds them."""
        lexical = self.lexical_index(corpus)
        return {
            term: (lexical.idf(term), lexical.holds(term)) for term in self._analyzer.analyze(text)
        }

    def written_out(self, *, corpus: str, text: str) -> str:
        """A French question with its typing shortcuts written out (``retrieval.spelling``):
        the corpus's own words (« lorient ») are never taken for shortcuts, and its spelling
        of a word wins (« déchèterie » for « déchetterie »)."""
        holds = self.lexical_index(corpus).holds
        return written_out(
            text,
            known=lambda word: any(holds(t) for t in self._analyzer.analyze(word)),
            corpus_spelling=lambda word: self.corpus_spelling(corpus=corpus, word=word),
        )

    def corpus_spelling(self, *, corpus: str, word: str) -> str | None:
        """How the corpus writes ``word`` when it does not hold it: a word of the corpus
        whose term is one letter away from the word's, and which is itself at most one
        letter away from the word (asked « déchetterie », the documents' « déchèterie »;
        terms alone are too short to tell « apartement » from « partir »). The most
        frequent such term wins, as written in the chunk that uses it most."""
        terms = self._analyzer.analyze(word)
        lexical = self.lexical_index(corpus)
        if len(terms) != 1 or len(terms[0]) < MIN_SPELLED_TERM or lexical.holds(terms[0]):
            return None
        near = one_letter_away(terms[0], TERM_LETTERS)
        for _, term in sorted((lexical.idf(t), t) for t in near if lexical.holds(t)):
            scores, _ = lexical.scores([term])
            chunk_id = lexical.chunk_ids[int(scores.argmax())]
            chunk = self.get_chunk(corpus=corpus, chunk_id=chunk_id)
            # Title and section too: the chunk may hold the term only in its headings.
            for written in _WORD.findall(indexed_text(chunk) if chunk else ""):
                if self._analyzer.analyze(written) == [term] and letters_apart(written, word) <= 1:
                    return written.lower()
        return None

    def similarities(self, query: str, texts: list[str]) -> list[float]:
        """Cosine of ``query`` with each text, by the index's embedder."""
        if not texts:
            return []
        vectors = self.embedder.embed_documents_array(texts)
        return [float(x) for x in vectors @ self.embedder.embed_query_array(query)]

    @property
    def analyzer(self) -> FrenchAnalyzer:
        """The French analysis every lexical comparison must share."""
        return self._analyzer

    def search(self, *, corpus: str, query: str, k: int = 5) -> list[Passage]:
        """The ``k`` best passages of ``corpus`` for ``query`` (hybrid, then reranked)."""
        started = time.perf_counter()
        ranked = self.candidates(corpus=corpus, query=query, pool=max(CANDIDATE_POOL, 2 * k))
        fuse(ranked, method=self.fusion.method, lexical_weight=self.fusion.lexical_weight)
        ranked.sort(key=lambda c: c.fused, reverse=True)
        passages = self._passages(corpus, ranked, query, k)
        logger.debug(
            "search candidates=%d returned=%d ms=%.1f",
            len(ranked),
            len(passages),
            1000 * (time.perf_counter() - started),
        )
        return passages

    def candidates(self, *, corpus: str, query: str, pool: int = CANDIDATE_POOL) -> list[Candidate]:
        """The union of the lexical and dense top-``pool`` chunks, with their signals (not
        yet fused). BM25 is exact for every candidate; ``dense`` is None for chunks the
        dense side did not return."""
        lexical = self.lexical_index(corpus)
        if not lexical.active:
            return []
        terms = self._analyzer.analyze(query)
        acronyms = self._acronyms.table(corpus, lexical.generation, lexical.active)
        terms += self._analyzer.analyze(Acronyms.spelled_out(query, acronyms))
        total, head = lexical.scores(terms)
        candidates: dict[str, Candidate] = {}
        if lexical.size:
            n = min(pool, lexical.size)
            top = np.argpartition(-total, n - 1)[:n]
            top = top[total[top] > 0]
            for rank, i in enumerate(top[np.argsort(-total[top], kind="stable")], start=1):
                candidates[lexical.chunk_ids[i]] = Candidate(
                    lexical.chunk_ids[i],
                    lexical.document_ids[i],
                    lexical=float(total[i]),
                    head=float(head[i]),
                    lexical_rank=rank,
                )
        for rank, hit in enumerate(self._dense_hits(corpus, query, lexical, pool), start=1):
            candidate = candidates.get(hit.chunk_id)
            if candidate is None:
                position = lexical.position[hit.chunk_id]
                candidate = Candidate(
                    hit.chunk_id,
                    lexical.document_ids[position],
                    lexical=float(total[position]),
                    head=float(head[position]),
                )
                candidates[hit.chunk_id] = candidate
            candidate.dense = hit.similarity
            candidate.dense_rank = rank
        return list(candidates.values())

    def _dense_hits(
        self, corpus: str, query: str, lexical: LexicalIndex, pool: int
    ) -> list[DenseHit]:
        """Nearest active chunks; asks Chroma for more when inactive leftovers crowd in.

        The lexical index holds exactly the active chunks of its generation, so it tells
        which dense hits are live without reading Chroma's metadata.
        """
        vector = self.embedder.embed_query_array(query)
        n = pool
        while True:
            hits = self.vectors.query(corpus, vector, n)
            live = [h for h in hits if h.chunk_id in lexical.position]
            if len(live) >= pool or len(hits) < n or n >= 16 * pool:
                return live[:pool]
            n *= 4

    def _passages(self, corpus: str, ranked: list[Candidate], query: str, k: int) -> list[Passage]:
        depth = max(k, RERANK_DEPTH) if self.reranker is not None else k
        # Fetch a few spares: a chunk may have been replaced since the lexical snapshot.
        wanted = ranked[: depth + 5]
        chunks = self.catalog.chunks_by_id(corpus, [c.chunk_id for c in wanted])
        kept = [(c, chunks[c.chunk_id]) for c in wanted if c.chunk_id in chunks][:depth]
        rerank: list[float | None] = [None] * len(kept)
        if self.reranker is not None and kept:
            values = self.reranker.scores(query, [indexed_text(chunk) for _, chunk in kept])
            rerank = list(values)
            order = sorted(range(len(kept)), key=lambda i: values[i], reverse=True)
            kept = [kept[i] for i in order]
            rerank = [values[i] for i in order]
        return [
            Passage(
                chunk=chunk,
                score=round(c.fused, 6),
                lexical_score=c.lexical,
                dense_score=c.dense,
                lexical_rank=c.lexical_rank,
                dense_rank=c.dense_rank,
                title_score=c.head,
                rerank_score=r,
            )
            for (c, chunk), r in zip(kept[:k], rerank[:k], strict=True)
        ]

    def get_chunk(self, *, corpus: str, chunk_id: str) -> Chunk | None:
        """An active chunk by id (None when unknown or superseded)."""
        return self.catalog.chunks_by_id(corpus, [chunk_id]).get(chunk_id)

    def opens_section(self, *, corpus: str, chunk: Chunk) -> bool:
        """Whether ``chunk`` is the beginning of its section (the chunk before it, if
        any, belongs to another section)."""
        if chunk.ordinal == 0:
            return True
        before = chunk_id(chunk.document_id, chunk.version, chunk.ordinal - 1)
        previous = self.get_chunk(corpus=corpus, chunk_id=before)
        return previous is None or previous.section != chunk.section

    def document_chunks(self, *, corpus: str, document_id: str) -> list[Chunk]:
        """The active version's chunks of a document, in order."""
        return self.catalog.document_chunks(corpus, document_id)

    def ping(self) -> bool:
        """True when the vector store answers (for readiness probes)."""
        return self.vectors.ping()
