#!/usr/bin/env bash
# microforge developer entry point. Idempotent: sets up what is missing, then runs.
#   ./dev.sh demo   compile the bundled person_detect model, run it, check it against TFLM, print the report
#   ./dev.sh test   run the test suite
#   ./dev.sh setup  only set up (.venv with pinned packages; apt toolchains when root)
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES="gcc clang make python3-venv gcc-arm-none-eabi libnewlib-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm qemu-system-misc gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf"
PYTHON=${PYTHON:-python3}

setup_apt() {
    local missing=""
    command -v gcc >/dev/null || missing="yes"
    command -v clang >/dev/null || missing="yes"
    command -v arm-none-eabi-gcc >/dev/null || missing="yes"
    command -v riscv64-unknown-elf-gcc >/dev/null || missing="yes"
    command -v qemu-system-arm >/dev/null || missing="yes"
    command -v qemu-system-riscv32 >/dev/null || missing="yes"
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "[setup] installing C toolchains and QEMU with apt (once)..."
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $APT_PACKAGES >/dev/null
    else
        echo "[setup] note: C cross toolchains / QEMU missing and not root; host-only features work." >&2
        echo "[setup]       to enable targets: sudo apt-get install --no-install-recommends $APT_PACKAGES" >&2
        command -v gcc >/dev/null || { echo "[setup] error: gcc is required (apt-get install gcc)" >&2; exit 1; }
    fi
}

setup_venv() {
    local stamp=.venv/.microforge-stamp
    local want
    want=$(cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1)
    if [ ! -x .venv/bin/python ]; then
        echo "[setup] creating .venv"
        "$PYTHON" -m venv .venv
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "[setup] installing pinned Python packages into .venv (once)..."
        .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
        .venv/bin/python -c "import microforge, tflite_micro, onnx, onnxruntime" || { echo "[setup] error: Python packages failed to install" >&2; exit 1; }
        echo "$want" > "$stamp"
    fi
}

setup_apt
setup_venv

case "${1:-}" in
    setup) ;;
    demo) shift; exec .venv/bin/microforge demo "$@" ;;
    test) shift; exec .venv/bin/python -m pytest -q -n 2 "$@" ;;
    *) echo "usage: $0 demo|test|setup" >&2; exit 2 ;;
esac
