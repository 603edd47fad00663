"""Measure originals in PostgreSQL: storing uploads of the largest allowed size, reading
one back whole (as indexing does) and streaming it (as a download does).

    PYTHONPATH=. .venv/bin/python scripts/measure_originals.py [--mb 20] [--files 10]

Starts a throw-away PostgreSQL server (tests/postgres.py: Debian's binaries, loopback,
fsync off as in the test suite, so writes are faster than on a production server), creates
the schema with Guichet's migrations and prints one JSON line of timings.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from sqlalchemy import text

from corpora import originals
from database import make_engine, make_session_factory, transaction
from server.schema import upgrade
from tests.factories import make_corpus, make_document
from tests.postgres import PostgresServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=20.0, help="Size of each file, in MB.")
    parser.add_argument("--files", type=int, default=10, help="How many files to store.")
    args = parser.parse_args()
    size = int(args.mb * 1024 * 1024)
    server = PostgresServer()
    server.start()
    try:
        engine = make_engine(server.create_database())
        upgrade(engine)
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            corpus = make_corpus(session=session)
            ids = [
                make_document(session=session, corpus=corpus, filename=f"f{n}.pdf").versions[0].id
                for n in range(args.files)
            ]
        started = time.perf_counter()
        for version_id in ids:
            with transaction(sessions) as session:
                originals.put(session=session, version_id=version_id, data=os.urandom(size))
        stored_s = time.perf_counter() - started
        started = time.perf_counter()
        with sessions() as session:
            whole = originals.read(session=session, version_id=ids[0])
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        streamed = sum(len(p) for p in originals.stream(sessions=sessions, version_id=ids[0]))
        stream_s = time.perf_counter() - started
        with engine.connect() as connection:
            on_disk = connection.execute(
                text("SELECT pg_total_relation_size('original_parts')")
            ).scalar_one()
        engine.dispose()
    finally:
        server.stop()
    assert len(whole) == streamed == size
    print(
        json.dumps(
            {
                "files": args.files,
                "mb_each": args.mb,
                "store_s_per_file": round(stored_s / args.files, 3),
                "store_mb_per_s": round(args.files * args.mb / stored_s, 1),
                "read_whole_s": round(read_s, 3),
                "stream_s": round(stream_s, 3),
                "stream_mb_per_s": round(args.mb / stream_s, 1),
                "table_mb": round(on_disk / 1024 / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
