#!/usr/bin/env bash
# Record every `keepalive record` scenario with real kernel traffic, each capture beside its
# JSON report:  sudo bash scripts/record-fixtures.sh OUTDIR [IDLE INTERVAL COUNT]
#   OUTDIR/rec-<scenario>.pcapng and OUTDIR/rec-<scenario>.json
# Needs root, python3, iproute2 and a built project (npx tsc -p .). Existing files are never
# overwritten: keepalive refuses, and this script stops. Every run makes and removes its own
# network namespaces (docs/live.md).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLI="$HERE/../dist/cli/main.js"
OUT=${1:?usage: record-fixtures.sh OUTDIR [IDLE INTERVAL COUNT]}
IDLE=${2:-1s}
INTERVAL=${3:-2s}
COUNT=${4:-3}
[ -f "$CLI" ] || { echo "record-fixtures: $CLI is missing: build first (npx tsc -p .)" >&2; exit 2; }
mkdir -p "$OUT"
for s in alive dead-peer peer-reboot both-ends zero-window; do
  echo "record-fixtures: $s (idle $IDLE, interval $INTERVAL, count $COUNT)" >&2
  node "$CLI" record --scenario "$s" --idle "$IDLE" --interval "$INTERVAL" --count "$COUNT" \
    -w "$OUT/rec-$s.pcapng" --format json -o "$OUT/rec-$s.json"
done
