"""SearchIndex on real storage (temp folder, embedded Chroma, SQLite) and the real embedder."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from retrieval.errors import RetrievalError
from retrieval.index import DocumentChunks, SearchIndex
from retrieval.vectors import collection_name
from tests.retrieval.corpus import DOCUMENTS, chunks_of, many_chunks


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several write batches even for the dozen chunks of these tests."""
    monkeypatch.setattr("retrieval.index.WRITE_BATCH", 4)


def _index_all(index: SearchIndex, corpus: str = "demo-procedures") -> None:
    index.replace_documents(
        corpus=corpus, documents=[DocumentChunks(d, 1, chunks_of(d)) for d in DOCUMENTS]
    )


def _doc_ids(index: SearchIndex, corpus: str, query: str, k: int = 5) -> list[str]:
    return [p.chunk.document_id for p in index.search(corpus=corpus, query=query, k=k)]


def test_hybrid_search_ranks_the_right_document_first(index: SearchIndex) -> None:
    _index_all(index)
    passages = index.search(corpus="demo-procedures", query="prix du timbre fiscal passeport")
    best = passages[0]
    assert best.chunk.document_id == "passeport"
    assert best.chunk.section == "Coût"
    assert best.lexical_score and best.lexical_score > 0 and best.lexical_rank == 1
    assert best.dense_score is not None and best.dense_rank is not None
    assert 0 < best.score <= 1
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


def test_query_without_shared_words_still_gets_dense_results(index: SearchIndex) -> None:
    _index_all(index)
    passages = index.search(corpus="demo-procedures", query="xyzzy", k=3)
    assert len(passages) == 3
    assert all(p.lexical_rank is None and p.dense_rank is not None for p in passages)


def test_title_matches_count(index: SearchIndex) -> None:
    _index_all(index)
    passages = index.search(corpus="demo-procedures", query="cantine scolaire", k=1)
    assert passages[0].chunk.document_id == "cantine"
    assert passages[0].title_score and passages[0].title_score > 0


def test_corpora_are_kept_apart(index: SearchIndex) -> None:
    index.replace_document(
        corpus="mairie", document_id="passeport", version=1, chunks=chunks_of("passeport")
    )
    index.replace_document(
        corpus="ecole", document_id="cantine", version=1, chunks=chunks_of("cantine")
    )
    assert set(_doc_ids(index, "mairie", "cantine scolaire quotient")) == {"passeport"}
    assert set(_doc_ids(index, "ecole", "passeport timbre")) == {"cantine"}
    assert index.search(corpus="inconnu", query="passeport") == []


@pytest.mark.parametrize("corpus", ["demo-procedures", "a", "é l'été / 2024", "x" * 600, "--"])
def test_collection_names_are_valid_and_distinct(corpus: str) -> None:
    name = collection_name(corpus)
    assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]", name)
    assert name == collection_name(corpus)
    assert collection_name("a b") != collection_name("a-b")


def test_replace_switches_versions(index: SearchIndex) -> None:
    corpus = "c"
    index.replace_document(
        corpus=corpus, document_id="permis", version=1, chunks=chunks_of("permis")
    )
    old = chunks_of("permis")
    new = chunks_of("permis", 2, text_suffix=" Délai : trois semaines.")
    index.replace_document(corpus=corpus, document_id="permis", version=2, chunks=new)
    assert index.document_chunks(corpus=corpus, document_id="permis") == new
    assert index.get_chunk(corpus=corpus, chunk_id=old[0].chunk_id) is None
    assert index.get_chunk(corpus=corpus, chunk_id=new[0].chunk_id) == new[0]
    assert {p.chunk.version for p in index.search(corpus=corpus, query="permis perdu")} == {2}
    assert index.vectors.existing_ids(corpus, [old[0].chunk_id, new[0].chunk_id]) == {
        new[0].chunk_id
    }


def test_replacing_with_identical_chunks_is_a_no_op(index: SearchIndex) -> None:
    index.replace_document(corpus="c", document_id="impots", version=1, chunks=chunks_of("impots"))
    generation = index.catalog.generation("c")
    calls: list[tuple[int, int]] = []
    index.replace_document(
        corpus="c",
        document_id="impots",
        version=1,
        chunks=chunks_of("impots"),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert index.catalog.generation("c") == generation
    assert calls == [(0, 0)]


def _fail_at_end(done: int, total: int) -> None:
    if done == total:
        raise KeyboardInterrupt("simulated crash after writing, before switching")


def _assert_only_version(
    index: SearchIndex,
    corpus: str,
    version: int,
    queries: Sequence[str] = ("règle numéro 3 du guide", "guide long"),
) -> None:
    for query in queries:
        passages = index.search(corpus=corpus, query=query, k=10)
        assert passages and {p.chunk.version for p in passages} == {version}
    assert {c.version for c in index.document_chunks(corpus=corpus, document_id="guide")} == {
        version
    }


def test_interrupted_replace_leaves_the_old_version_and_cleans_up(index: SearchIndex) -> None:
    corpus = "c"
    index.replace_document(
        corpus=corpus, document_id="guide", version=1, chunks=many_chunks("guide", 1, 12)
    )
    new = many_chunks("guide", 2, 12)
    with pytest.raises(KeyboardInterrupt):
        index.replace_document(
            corpus=corpus, document_id="guide", version=2, chunks=new, progress=_fail_at_end
        )
    _assert_only_version(index, corpus, 1)
    assert index.catalog.chunk_ids_of(corpus, "guide", 2) == []
    assert index.vectors.existing_ids(corpus, [c.chunk_id for c in new]) == set()


def test_leftovers_of_a_failed_cleanup_are_collected_later(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = "c"
    index.replace_document(
        corpus=corpus, document_id="guide", version=1, chunks=many_chunks("guide", 1, 12)
    )
    new = many_chunks("guide", 2, 12)
    monkeypatch.setattr(SearchIndex, "_abandon", lambda self, corpus, docs: None)
    with pytest.raises(KeyboardInterrupt):
        index.replace_document(
            corpus=corpus, document_id="guide", version=2, chunks=new, progress=_fail_at_end
        )
    # The unfinished version is in both stores, yet search only sees version 1.
    assert len(index.catalog.chunk_ids_of(corpus, "guide", 2)) == 12
    assert len(index.vectors.existing_ids(corpus, [c.chunk_id for c in new])) == 12
    _assert_only_version(index, corpus, 1)
    monkeypatch.undo()
    index.replace_document(
        corpus=corpus, document_id="guide", version=3, chunks=many_chunks("guide", 3, 5)
    )
    _assert_only_version(index, corpus, 3)
    assert index.catalog.chunk_ids_of(corpus, "guide", 2) == []
    assert index.vectors.existing_ids(corpus, [c.chunk_id for c in new]) == set()


def test_delete_removes_from_both_indexes(index: SearchIndex) -> None:
    _index_all(index, "c")
    ids = [c.chunk_id for c in chunks_of("permis")]
    assert "permis" in _doc_ids(index, "c", "permis de conduire perdu")
    index.delete_document(corpus="c", document_id="permis")
    assert "permis" not in _doc_ids(index, "c", "permis de conduire perdu", k=10)
    assert index.catalog.chunk_ids_of("c", "permis", 1) == []
    assert index.vectors.existing_ids("c", ids) == set()
    assert index.document_chunks(corpus="c", document_id="permis") == []


def test_drop_corpus(index: SearchIndex) -> None:
    _index_all(index, "c")
    _index_all(index, "other")
    index.drop_corpus(corpus="c")
    assert index.search(corpus="c", query="passeport") == []
    assert _doc_ids(index, "other", "passeport timbre")[0] == "passeport"
    _index_all(index, "c")  # the corpus can be rebuilt afterwards
    assert _doc_ids(index, "c", "passeport timbre")[0] == "passeport"


def test_bulk_replace_batches_across_documents(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("retrieval.index.WRITE_BATCH", 8)
    calls: list[tuple[int, int]] = []
    docs = [DocumentChunks(f"g{i}", 1, many_chunks(f"g{i}", 1, 5)) for i in range(6)]
    docs.append(DocumentChunks("big", 1, many_chunks("big", 1, 20)))  # several batches alone
    index.replace_documents(corpus="c", documents=docs, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (50, 50)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) >= 6
    assert index.lexical_index("c").size == 50
    assert index.search(corpus="c", query="règle numéro 17", k=1)[0].chunk.document_id == "big"


def test_chunks_must_belong_to_the_document(index: SearchIndex) -> None:
    with pytest.raises(RetrievalError) as caught:
        index.replace_document(
            corpus="c", document_id="autre", version=1, chunks=chunks_of("permis")
        )
    assert caught.value.code == "invalid_chunks"


def test_reranker_orders_the_final_list(index: SearchIndex) -> None:
    class ByLength:
        """A stand-in cross-encoder: prefers the longest passage."""

        def scores(self, query: str, passages: Sequence[str]) -> list[float]:
            return [float(len(p)) for p in passages]

    _index_all(index, "c")
    index.reranker = ByLength()
    passages = index.search(corpus="c", query="passeport", k=3)
    scores = [p.rerank_score for p in passages]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)


def test_ping(index: SearchIndex) -> None:
    assert index.ping() is True


def test_a_word_the_corpus_spells_otherwise_is_given_its_spelling(index: SearchIndex) -> None:
    """A citizen's « printems » is the documents' « printemps »; a word the corpus holds,
    or nothing near it, gets nothing."""
    _index_all(index)
    spelling = index.corpus_spelling
    assert spelling(corpus="demo-procedures", word="printems") == "printemps"
    assert spelling(corpus="demo-procedures", word="pasport") is None  # two letters off
    assert spelling(corpus="demo-procedures", word="passeport") is None  # held as it is
    assert spelling(corpus="demo-procedures", word="apartement") is None
