"""The catalog in the shared SQL database: incremental lexical refresh, and two hosts.

Run on the SQLite default and, with ``--db postgres``, on a real PostgreSQL server.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from database import make_engine
from retrieval import pending
from retrieval.analysis import ANALYSIS_VERSION, FrenchAnalyzer
from retrieval.catalog import Catalog, LexicalRows
from retrieval.catalog_tables import TABLES
from retrieval.embedding import Embedder
from retrieval.index import SearchIndex
from retrieval.lexical import LexicalIndex, LexicalIndexes
from retrieval.terms import COUNTER, chunk_terms, refresh_stored_terms
from retrieval.types import Chunk
from server.schema import metadata, upgrade
from tests.chroma import ChromaServer
from tests.retrieval.corpus import chunks_of
from tests.storage import Storage, catalog_engine

WORDS = (
    "passeport mairie rendez-vous timbre fiscal adulte cantine scolaire tarif quotient "
    "familial déclaration revenus printemps permis conduire perte titre nouveau site "
    "demande pièce identité justificatif domicile carte grise véhicule immatriculation "
    "allocation logement aide personnalisée impôt taxe foncière habitation naissance acte "
    "mariage divorce succession notaire école inscription collège lycée bourse"
).split()
QUERIES = [
    "perte du permis de conduire",
    "tarif de la cantine scolaire",
    "déclaration des revenus au printemps",
    "timbre fiscal passeport adulte",
    "acte de naissance mairie",
    "aide au logement allocation",
]


@pytest.fixture
def database(tmp_path: Path, storage: Storage) -> Iterator[Engine]:
    """The run's database, migrated like the application's (SQLite file by default)."""
    engine = catalog_engine(storage)
    if engine is None:
        engine = make_engine(f"sqlite:///{tmp_path / 'guichet.db'}")
        upgrade(engine)
    yield engine
    engine.dispose()


def _document(rng: random.Random, document_id: str, version: int, n: int) -> list[Chunk]:
    title = " ".join(rng.choices(WORDS, k=4))
    return [
        Chunk(
            f"{document_id}@v{version}#{o}",
            document_id,
            version,
            o,
            title,
            rng.choice(["", "Coût", "Délais"]),
            None,
            " ".join(rng.choices(WORDS, k=rng.randint(5, 40))),
        )
        for o in range(n)
    ]


def _write(catalog: Catalog, analyzer: FrenchAnalyzer, chunks: list[Chunk]) -> None:
    rows = [
        (
            c,
            " ".join(analyzer.analyze(f"{c.title} {c.section} {c.text}")),
            " ".join(analyzer.analyze(f"{c.title} {c.section}")),
        )
        for c in chunks
    ]
    catalog.insert_chunks("c", rows)
    catalog.activate("c", sorted({(c.document_id, c.version) for c in chunks}))


def _scores(index: LexicalIndex, query: list[str]) -> dict[str, tuple[float, float]]:
    total, head = index.scores(query)
    return {
        index.chunk_ids[i]: (float(total[i]), float(head[i]))
        for i in np.flatnonzero(total)
        if index.chunk_ids[i] in index.position
    }


def test_incremental_refresh_scores_like_a_full_rebuild(
    database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("retrieval.lexical.COMPACT_SHARE", 10.0)  # keep the delta
    rng = random.Random(3)
    analyzer = FrenchAnalyzer()
    writer, reader = Catalog(database), Catalog(database)
    for d in range(40):
        _write(writer, analyzer, _document(rng, f"d{d}", 1, rng.randint(1, 6)))
    indexes = LexicalIndexes(reader)
    first = indexes.current("c")
    assert first.delta_size == 0 and first.size > 40

    # Another catalog (as another host would) replaces, deletes and adds documents; the
    # reader refreshes after each step, so its delta accumulates across generations.
    versions = dict.fromkeys((f"d{d}" for d in range(40)), 1)
    for step in range(12):
        action = step % 3
        document_id = rng.choice(sorted(versions))
        if action == 0:
            versions[document_id] += 1
            _write(writer, analyzer, _document(rng, document_id, versions[document_id], 3))
        elif action == 1:
            writer.deactivate("c", [document_id])
            del versions[document_id]
        else:
            new_id = f"n{step}"
            versions[new_id] = 1
            _write(writer, analyzer, _document(rng, new_id, 1, 2))
        incremental = indexes.current("c")
        assert incremental.generation == writer.generation("c")
        full = LexicalIndex(reader.lexical_rows("c"))
        assert incremental.active == full.active == versions
        assert incremental.live == full.size
        for query in QUERIES:
            terms = analyzer.analyze(query)
            got, want = _scores(incremental, terms), _scores(full, terms)
            assert set(got) == set(want)
            for chunk_id, (total, head) in want.items():
                assert got[chunk_id] == pytest.approx((total, head), rel=1e-5, abs=1e-6)
            for term in terms:
                assert incremental.idf(term) == pytest.approx(full.idf(term), rel=1e-9)
    assert incremental.delta_size > 0  # the incremental path, not a rebuild, was checked
    assert incremental is not first
    writer.close()
    reader.close()


def test_chunks_without_headings_score_on_their_text() -> None:
    """A field no live chunk fills (answers kept without title or section) scores 0."""
    rows = LexicalRows(1, ["a#0", "b#0"], ["a", "b"], ["permis conduir", "passeport"], ["", ""], {})
    total, head = LexicalIndex(rows).scores(["permis"])
    assert total[0] > 0 and total[1] == 0 and not head.any()


def test_dropped_corpus_refreshes_in_full(database: Engine) -> None:
    analyzer = FrenchAnalyzer()
    catalog = Catalog(database)
    _write(catalog, analyzer, _document(random.Random(1), "d0", 1, 3))
    indexes = LexicalIndexes(catalog)
    assert indexes.current("c").size == 3
    catalog.deactivate("c")  # the whole corpus: the change log names no document
    catalog.forget_corpus("c")
    changes = catalog.lexical_changes("c", 1)
    assert changes.documents is None and changes.rows.chunk_ids == []
    assert indexes.current("c").size == 0
    catalog.close()


@pytest.mark.slow
def test_two_hosts_share_one_catalog(
    tmp_path: Path,
    database: Engine,
    embedder: Embedder,
    chroma_server: ChromaServer,
    storage: Storage,
) -> None:
    """Two indexes with their own data folders on one database and one Chroma server:
    what one writes, the other finds, including a new version and a deletion."""
    chroma = storage.chroma_database or chroma_server.new_database()

    def host(name: str) -> SearchIndex:
        return SearchIndex(
            root=tmp_path / name,
            embedder=embedder,
            database=database,
            chroma_url=chroma_server.url,
            chroma_database=chroma,
        )

    first, second = host("host-a"), host("host-b")
    try:
        first.replace_document(
            corpus="c", document_id="passeport", version=1, chunks=chunks_of("passeport")
        )
        first.replace_document(
            corpus="c", document_id="permis", version=1, chunks=chunks_of("permis")
        )
        best = second.search(corpus="c", query="permis de conduire perdu", k=1)[0]
        assert best.chunk.document_id == "permis" and best.dense_rank == 1
        assert best.lexical_rank == 1

        suffix = " Le renouvellement se fait aussi à la préfecture de région."
        first.replace_document(
            corpus="c",
            document_id="permis",
            version=2,
            chunks=chunks_of("permis", 2, text_suffix=suffix),
        )
        hits = second.search(corpus="c", query="préfecture de région", k=3)
        assert hits[0].chunk.document_id == "permis" and hits[0].chunk.version == 2
        assert {p.chunk.version for p in hits if p.chunk.document_id == "permis"} == {2}

        first.delete_document(corpus="c", document_id="permis")
        hits = second.search(corpus="c", query="permis de conduire perdu", k=5)
        assert hits and {p.chunk.document_id for p in hits} == {"passeport"}
        assert second.document_chunks(corpus="c", document_id="permis") == []
        # And the other way round: the second host writes, the first finds it.
        second.replace_document(
            corpus="c", document_id="impots", version=1, chunks=chunks_of("impots")
        )
        assert first.search(corpus="c", query="déclarer ses revenus", k=1)[0].chunk.document_id == (
            "impots"
        )
    finally:
        first.close()
        second.close()


def test_terms_of_an_older_analysis_are_made_again_once(
    tmp_path: Path, database: Engine, embedder: Embedder, storage: Storage
) -> None:
    """A catalog whose terms were stored before « PACS » was kept whole: on opening, its
    live chunks are analysed again and « se pacser » finds the PACS page; the next
    opening has nothing to do."""
    chroma = {"chroma_url": storage.chroma_url, "chroma_database": storage.chroma_database}
    chunk = Chunk(
        "pacs@v1#0", "pacs", 1, 0, "Mariage et PACS", "Pièces à fournir", None,
        "Pour un PACS, apportez la convention de PACS signée et une pièce d'identité.",
    )  # fmt: skip
    first = SearchIndex(root=tmp_path / "a", embedder=embedder, database=database, **chroma)
    try:
        first.replace_document(corpus="c", document_id="pacs", version=1, chunks=[chunk])
        first.replace_document(
            corpus="c", document_id="passeport", version=1, chunks=chunks_of("passeport")
        )
        old = " ".join(
            t if t != "pacs" else "pac" for t in chunk_terms(first.analyzer, chunk)[0].split()
        )
        first.catalog.insert_chunks("c", [(chunk, old, "mariag pac piec fourn")])
        first.catalog.set_counter(COUNTER, 1)
    finally:
        first.close()

    second = SearchIndex(root=tmp_path / "a", embedder=embedder, database=database, **chroma)
    try:
        assert second.catalog.counter(COUNTER) == ANALYSIS_VERSION
        assert second.catalog.counter(f"{COUNTER}:c") == ANALYSIS_VERSION
        rows = second.catalog.lexical_rows("c")
        assert sum("pacs" in body.split() for body in rows.body_terms) == 1
        assert not any("pac" in body.split() for body in rows.body_terms)
        best = second.search(corpus="c", query="se pacser", k=1)[0]
        assert best.chunk.document_id == "pacs" and best.lexical_rank == 1
        assert refresh_stored_terms(second.catalog, second.analyzer) == 0
    finally:
        second.close()


FORMER_SCHEMA = """
CREATE TABLE chunks (corpus TEXT, chunk_id TEXT, document_id TEXT, version INTEGER,
    ordinal INTEGER, title TEXT, section TEXT, page INTEGER, text TEXT, body_terms TEXT,
    head_terms TEXT, PRIMARY KEY (corpus, chunk_id));
CREATE TABLE active (corpus TEXT, document_id TEXT, version INTEGER,
    PRIMARY KEY (corpus, document_id));
CREATE TABLE generations (corpus TEXT PRIMARY KEY, generation INTEGER);
"""


@pytest.mark.slow
def test_a_former_catalog_file_is_imported_once(
    tmp_path: Path, database: Engine, embedder: Embedder, storage: Storage
) -> None:
    """An instance upgraded in place keeps its documents searchable without re-indexing."""
    root = tmp_path / "data"
    chroma = {"chroma_url": storage.chroma_url, "chroma_database": storage.chroma_database}
    before = SearchIndex(root=root, embedder=embedder, **chroma)  # a catalog of its own
    before.replace_document(
        corpus="c", document_id="passeport", version=1, chunks=chunks_of("passeport")
    )
    before.replace_document(
        corpus="c", document_id="permis", version=2, chunks=chunks_of("permis", 2)
    )
    rows = before.catalog.lexical_rows("c")
    former = sqlite3.connect(root / "retrieval-catalog.sqlite3")
    former.executescript(FORMER_SCHEMA)
    for chunk_id, body, head in zip(rows.chunk_ids, rows.body_terms, rows.head_terms, strict=True):
        c = before.get_chunk(corpus="c", chunk_id=chunk_id)
        assert c is not None
        former.execute(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("c", c.chunk_id, c.document_id, c.version, c.ordinal, c.title, c.section, c.page,
             c.text, body, head),
        )  # fmt: skip
    former.executemany("INSERT INTO active VALUES ('c', ?, ?)", rows.active.items())
    former.commit()
    former.close()
    before.close()

    after = SearchIndex(root=root, embedder=embedder, database=database, **chroma)
    try:
        best = after.search(corpus="c", query="permis de conduire perdu", k=1)[0]
        assert best.chunk == chunks_of("permis", 2)[0]
        assert best.lexical_rank == 1 and best.dense_rank == 1  # vectors found as they were
        assert after.catalog.active_versions("c") == {"passeport": 1, "permis": 2}
        assert not (root / "retrieval-catalog.sqlite3").exists()
        assert (root / "retrieval-catalog.sqlite3.imported").exists()
    finally:
        after.close()


def test_the_migration_makes_the_tables_the_catalog_declares(
    tmp_path: Path, storage: Storage
) -> None:
    """Alembic's 0009 and ``catalog_tables.py`` agree, on SQLite and PostgreSQL."""
    engine = make_engine(storage.database_url or f"sqlite:///{tmp_path / 'guichet.db'}")
    try:
        upgrade(engine)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert [d for d in differences if "retrieval_" in str(d)] == []
        assert {t.name for t in TABLES} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_write_of_another_host_is_only_presumed_dead_after_the_expiry(
    database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its pid means nothing here: the chunks it wrote stay until its row expires."""
    analyzer = FrenchAnalyzer()
    here, there = Catalog(database), Catalog(database)
    chunks = _document(random.Random(2), "d0", 1, 3)
    monkeypatch.setattr("retrieval.pending.socket.gethostname", lambda: "autre-hote")
    monkeypatch.setattr("retrieval.pending.os.getpid", lambda: 999_999_999)  # no such pid
    there.pending.begin("c", [("d0", 1)])
    there.insert_chunks(
        "c", [(c, " ".join(analyzer.analyze(c.text)), "") for c in chunks]
    )  # the other host dies here, before activating
    monkeypatch.undo()
    assert here.pending.stale_versions("c") == []  # alive as far as this host can tell
    started = pending.time.time()
    monkeypatch.setattr(pending.time, "time", lambda: started + pending.PENDING_EXPIRY_S + 1)
    (stale,) = here.pending.stale_versions("c")
    assert (stale.document_id, stale.version) == ("d0", 1)
    assert sorted(stale.chunk_ids) == sorted(c.chunk_id for c in chunks)
    here.close()
    there.close()


def test_a_large_delta_is_compacted_in_the_background(
    database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("retrieval.lexical.INLINE_COMPACTION", 0)  # every index is "large"
    monkeypatch.setattr("retrieval.lexical.COMPACT_SHARE", 0.05)
    rng = random.Random(5)
    analyzer = FrenchAnalyzer()
    catalog = Catalog(database)
    for d in range(20):
        _write(catalog, analyzer, _document(rng, f"d{d}", 1, 3))
    indexes = LexicalIndexes(catalog)
    indexes.current("c")
    _write(catalog, analyzer, _document(rng, "d3", 2, 4))  # 4 chunks > 5 % of 60
    refreshed = indexes.current("c")  # served at once from base + delta...
    assert refreshed.delta_size == 4 and refreshed.needs_compaction
    deadline = time.monotonic() + 30
    while (compacted := indexes.current("c")) is refreshed:  # ...while a thread rebuilds
        assert time.monotonic() < deadline, "no compaction"
        time.sleep(0.05)
    assert compacted.delta_size == 0 and compacted.generation == refreshed.generation
    terms = analyzer.analyze(QUERIES[0])
    got, want = _scores(compacted, terms), _scores(refreshed, terms)
    assert set(got) == set(want)
    for chunk_id, (total, head) in want.items():
        assert got[chunk_id] == pytest.approx((total, head), rel=1e-5, abs=1e-6)
    catalog.close()
