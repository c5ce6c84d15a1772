#!/usr/bin/env bash
# Set up hpsweep from nothing: a virtual environment in .venv with the package and, for `test`,
# everything the test suite needs (system packages for the Slurm and browser tests included).
# Idempotent and quick once done. Usage: scripts/setup.sh demo|test
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-demo}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
    # the venv's own pip is enough from 22 on (editable installs); upgrading costs a download
    .venv/bin/python -c 'import pip, sys; sys.exit(int(pip.__version__.split(".")[0]) < 22)' \
        || .venv/bin/python -m pip install -q --upgrade pip
fi
stamp=".venv/.setup-$what-$(cat pyproject.toml scripts/setup.sh | sha1sum | cut -c1-12)"
[ -f "$stamp" ] && exit 0

pip() { .venv/bin/python -m pip install -q --disable-pip-version-check "$@"; }
case "$what" in
  demo)
    pip -e .
    ;;
  test)
    # torch 2.13.0 is the CPU build; an unpinned torch would pull a multi-GB CUDA build.
    pip -e ".[test,bench,gpu,ray]" "torch==2.13.0" playwright
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        need=()
        command -v slurmctld >/dev/null || need+=(slurm-wlm)
        command -v munged >/dev/null || need+=(munge)
        [ -x /usr/bin/chromium ] || need+=(chromium)
        if [ ${#need[@]} -gt 0 ]; then
            echo "setup: installing ${need[*]} (Slurm and browser tests)"
            apt-get update -qq >/dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
        fi
    else
        echo "setup: not root or no apt-get: Slurm and browser tests will be skipped"
    fi
    ;;
  *)
    echo "usage: scripts/setup.sh demo|test" >&2
    exit 2
    ;;
esac
rm -f .venv/.setup-"$what"-*
touch "$stamp"
