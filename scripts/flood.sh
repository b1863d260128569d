#!/usr/bin/env bash
# The flood scenarios, one command (see BENCHMARKS.md, "Floods"):
#
#   scripts/flood.sh                          # each: 30 s quiet, then 30 s of flood
#   FLOOD_DURATION=5 scripts/flood.sh         # a quick look
#   FLOOD_SCENARIOS=passkey-start scripts/flood.sh
#
# Builds the release site, then runs scripts/bench/flood.mjs against it on
# SQLite, once per scenario: a signed-in user's /dashboard latency, alone
# and under a flood of bad sign-ins from 1,000 addresses (sign-in), of
# passkey sign-in starts from one address (passkey-start), or of sign-ups
# with a crafted slow-to-judge password (crafted-password). Prints each
# table; saves them in target/bench/flood-<scenario>.md.
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

step "Floods (each ${FLOOD_DURATION:-30} s quiet, then ${FLOOD_DURATION:-30} s of flood)"
for scenario in ${FLOOD_SCENARIOS:-sign-in passkey-start crafted-password}; do
  printf '\n== %s\n' "$scenario"
  node scripts/bench/flood.mjs --server "$work/server" --site "$(target_dir)/site" \
    --scenario "$scenario" --duration "${FLOOD_DURATION:-30}" --workers "${FLOOD_WORKERS:-48}" \
    || fail "the $scenario flood failed (the user saw a failure, or the run broke)" "read the output above"
done
