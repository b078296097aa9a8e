#!/usr/bin/env bash
# The main job on the embedded defaults: preview what the bundled example would send to Buildkite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/scripts/kiteflow" preview \
  --destination "$root/examples/trigger-builds/destination.json" \
  --input "$root/examples/trigger-builds/builds.jsonl" "$@"
