#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust, when it is absent:
#   - chromium        (headless; the HTML pages of `telemetry catalog docs` and `telemetry report --html`)
#   - postgresql      (server binaries; tests start their own cluster with initdb on a free port)
#   - a Python venv   (target/test-venv, with opentelemetry-proto: an independent OTLP decoder)
# Safe to run again: each step checks first. Needs root (or sudo) for the system packages;
# without it, it says what is missing and the tests that need it are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)

if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]]; then apt=(apt-get)
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then apt=(sudo apt-get)
    else apt=()
    fi
    if ((${#apt[@]})); then
        echo "setup-test-deps: installing ${missing[*]}" >&2
        "${apt[@]}" update -qq
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup-test-deps: missing ${missing[*]} (install them with apt-get); the tests that need them will be skipped" >&2
    fi
fi

venv=target/test-venv
if ! "$venv/bin/python" -c 'import opentelemetry.proto.collector.logs.v1.logs_service_pb2' 2>/dev/null; then
    if command -v python3 >/dev/null; then
        echo "setup-test-deps: creating $venv with opentelemetry-proto" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check 'opentelemetry-proto>=1.27'
    else
        echo "setup-test-deps: no python3; the OTLP decoding test will be skipped" >&2
    fi
fi
