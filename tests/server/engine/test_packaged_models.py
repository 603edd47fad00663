"""Packaged chat models: put together from their parts, checked against the pinned sha256,
refused on mismatch (the real download of the 1.5B model is measured in docs, not here:
1.1 GB)."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile
from pathlib import Path

import pytest

from server.engine.errors import EngineError
from server.engine.models import PACKAGED_MODELS, QWEN_CODER_15B, SMOLLM2, packaged_model
from server.engine.prepare import assemble_parts, check_pinned, prepare_packaged


def _wheel(folder: Path, number: int, data: bytes) -> None:
    name = f"model_part{number}"
    with zipfile.ZipFile(folder / f"{name}-0.2.0-py3-none-any.whl", "w") as archive:
        archive.writestr(f"{name}/__init__.py", "")
        archive.writestr(f"{name}/data/part{number:02d}.bin", data)


def test_parts_are_put_together_in_order_and_checked(tmp_path: Path) -> None:
    chunks = [b"GGUF" + bytes([n]) * 1000 for n in range(1, 4)]
    whole = b"".join(chunks)
    model = dataclasses.replace(
        QWEN_CODER_15B,
        name="test-model",
        gguf="test.gguf",
        parts=tuple(f"model-part{n}==0.2.0" for n in range(1, 4)),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
    )
    wheels = tmp_path / "download" / "wheels"
    wheels.mkdir(parents=True)
    for number, chunk in enumerate(chunks, start=1):
        _wheel(wheels, number, chunk)

    messages: list[str] = []
    gguf = assemble_parts(model, tmp_path / "download", messages.append)

    assert gguf.read_bytes() == whole
    check_pinned(gguf, model)
    assert "putting 3 parts together" in messages
    assert not wheels.exists()  # the wheels are not kept beside the whole file


def test_a_file_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    tampered = dataclasses.replace(SMOLLM2, sha256="0" * 64)
    with pytest.raises(EngineError) as refused:
        prepare_packaged(tampered, models_dir=tmp_path)
    assert refused.value.code == "checksum_mismatch"
    assert SMOLLM2.sha256 in str(refused.value)  # what was found, for the operator
    assert not (tmp_path / SMOLLM2.name).exists()


def test_the_default_model_is_the_pinned_file_of_its_package(tmp_path: Path) -> None:
    from server.engine.prepare import packaged_gguf_path

    check_pinned(packaged_gguf_path(SMOLLM2.gguf, SMOLLM2.package or ""), SMOLLM2)


def test_an_unknown_model_name_lists_the_known_ones() -> None:
    with pytest.raises(EngineError) as unknown:
        packaged_model("gpt-5")
    assert unknown.value.code == "unknown_model"
    assert all(name in unknown.value.detail for name in PACKAGED_MODELS)
