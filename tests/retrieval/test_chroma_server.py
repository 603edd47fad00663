"""Client/server mode: the index talks to a Chroma server started here on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.embedding import Embedder
from retrieval.index import SearchIndex
from tests.retrieval.corpus import chunks_of

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists() and shutil.which("chroma") is None:
        pytest.skip("the chroma command (from the chromadb package) is not installed")
    port = _free_port()
    server = subprocess.Popen(
        [
            str(chroma) if chroma.exists() else "chroma",
            "run",
            "--path",
            str(tmp_path / "srv"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the Chroma server did not start")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_index_on_a_chroma_server(tmp_path: Path, embedder: Embedder, chroma_url: str) -> None:
    index = SearchIndex(root=tmp_path / "index", embedder=embedder, chroma_url=chroma_url)
    try:
        assert index.ping()
        index.replace_document(
            corpus="c", document_id="passeport", version=1, chunks=chunks_of("passeport")
        )
        index.replace_document(
            corpus="c", document_id="permis", version=1, chunks=chunks_of("permis")
        )
        best = index.search(corpus="c", query="permis de conduire perdu", k=1)[0]
        assert best.chunk.document_id == "permis" and best.dense_rank == 1
        index.delete_document(corpus="c", document_id="permis")
        assert {p.chunk.document_id for p in index.search(corpus="c", query="permis")} == {
            "passeport"
        }
    finally:
        index.close()
    assert not (tmp_path / "index" / "chroma").exists()  # nothing embedded on disk
