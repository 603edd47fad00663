"""Several processes on one index: a writer killed with SIGKILL, and cross-process visibility."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.index import SearchIndex
from tests.retrieval.conftest import REPO_ROOT
from tests.retrieval.corpus import chunks_of, many_chunks
from tests.storage import Storage

pytestmark = pytest.mark.slow


def _worker(
    storage: Storage, root: Path, action: str, marker: Path | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, **storage.env(), "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    args = [sys.executable, "-m", "tests.retrieval.index_worker", str(root), action]
    if marker is not None:
        args.append(str(marker))
    return subprocess.Popen(
        args, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _run(storage: Storage, root: Path, action: str) -> None:
    process = _worker(storage, root, action)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output.decode(errors="replace")


@pytest.mark.parametrize("stage", ["embedding", "between-batches", "chroma-write"])
def test_writer_killed_mid_ingest(
    index: SearchIndex, storage: Storage, tmp_path: Path, stage: str
) -> None:
    corpus = "c"
    old = many_chunks("guide", 1, 12)
    index.replace_document(corpus=corpus, document_id="guide", version=1, chunks=old)
    marker = tmp_path / "marker"
    process = _worker(storage, index.root, f"crash-{stage}", marker)
    deadline = time.monotonic() + 300
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(process.communicate()[0].decode(errors="replace"))
        assert time.monotonic() < deadline, "worker never reached the stage"
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)  # reaps it (a zombie's pid still looks alive)

    passages = index.search(corpus=corpus, query="règle numéro 3 du guide", k=10)
    assert passages and {p.chunk.version for p in passages} == {1}
    assert index.document_chunks(corpus=corpus, document_id="guide") == old

    # What the next start (or write) does: collect the dead writer's leftovers.
    index.collect_garbage()
    new_ids = [c.chunk_id for c in many_chunks("guide", 2, 12)]
    assert index.catalog.chunk_ids_of(corpus, "guide", 2) == []
    assert index.vectors.existing_ids(corpus, new_ids) == set()
    index.replace_document(
        corpus=corpus, document_id="guide", version=3, chunks=many_chunks("guide", 3, 3)
    )
    assert {p.chunk.version for p in index.search(corpus=corpus, query="guide", k=5)} == {3}


def test_writes_of_another_process_become_visible(index: SearchIndex, storage: Storage) -> None:
    index.replace_document(
        corpus="c", document_id="passeport", version=1, chunks=chunks_of("passeport")
    )
    assert index.search(corpus="c", query="permis de conduire perdu")[0].chunk.document_id == (
        "passeport"
    )
    _run(storage, index.root, "add-permis")
    best = index.search(corpus="c", query="permis de conduire perdu", k=1)[0]
    assert best.chunk.document_id == "permis"
    assert best.lexical_rank == 1 and best.dense_rank == 1  # both sides see the new chunks
    _run(storage, index.root, "delete-passeport")
    passages = index.search(corpus="c", query="passeport timbre fiscal", k=5)
    assert {p.chunk.document_id for p in passages} == {"permis"}
