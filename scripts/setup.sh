#!/usr/bin/env bash
# Create .venv at the repository root and install speech-emotion into it.
#   scripts/setup.sh          the package and its runtime dependencies
#   scripts/setup.sh test     also the test and lint tools, and the system packages the tests use
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
if [ "${1:-}" = "test" ]; then
    extras="[test]"
    need=()
    command -v chromium >/dev/null || need+=(chromium)
    command -v espeak-ng >/dev/null || need+=(espeak-ng)
    command -v pg_ctlcluster >/dev/null || need+=(postgresql)
    /sbin/ldconfig -p 2>/dev/null | grep -q libportaudio || need+=(libportaudio2)  # the microphone source's tests
    if [ ${#need[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "installing system packages: ${need[*]}"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
        else
            echo "warning: missing system packages (${need[*]}); the tests that need them will be skipped" >&2
        fi
    fi
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first, on its own: with the exact pin pip takes a local CPU wheel where the machine offers one
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".${extras}"
