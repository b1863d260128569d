#!/usr/bin/env bash
# The sign-in flood scenario, one command (see BENCHMARKS.md):
#
#   scripts/flood.sh                      # 30 s quiet, then 30 s of flood
#   FLOOD_DURATION=5 scripts/flood.sh     # a quick look
#
# Builds the release site, then runs scripts/bench/flood.mjs against it on
# SQLite: a signed-in user's /dashboard latency, alone and under a flood of
# bad sign-ins from 1,000 addresses behind a trusted proxy. Prints the
# table; saves it in target/bench/flood.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/setup.sh"

STEPS=2
STEP=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step "Release build (scripts/release.sh)"
"$REPO_ROOT/scripts/release.sh" || fail "the release build failed" "read the output above"
cp "$(target_dir)/release/server" "$work/server"
cp "$(target_dir)/release/hash.txt" "$work/hash.txt"

step "Flood (${FLOOD_DURATION:-30} s quiet, then ${FLOOD_DURATION:-30} s of flood)"
node scripts/bench/flood.mjs --server "$work/server" --site "$(target_dir)/site" \
  --duration "${FLOOD_DURATION:-30}" --workers "${FLOOD_WORKERS:-48}" \
  || fail "the flood scenario failed (the user saw a failure, or the run broke)" "read the output above"
