#!/usr/bin/env bash
# The main job on the embedded defaults: start the Buildkite sandbox in-process and deliver the bundled
# example through it (no account, no network). Extra arguments go to `kiteflow demo`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/scripts/kiteflow" demo "$@"
