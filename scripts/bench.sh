#!/usr/bin/env bash
# The load benchmark, one command (see BENCHMARKS.md):
#
#   scripts/bench.sh                  # 30 s per level, 8/64/256 connections
#   BENCH_DURATION=5 BENCH_CONNECTIONS=64 scripts/bench.sh   # a quick look
#
# Builds the release site (size profile, precompressed assets) and a second,
# bench-only server without session validation, then drives both with wrk
# on SQLite and, when it answers, PostgreSQL (BENCH_DATABASE_URL). Prints
# the table and the ratios; saves them in target/bench/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/setup.sh" --test

STEPS=4
STEP=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step "Load tools (wrk, sqlite3 from Debian)"
have wrk || apt_install wrk
have sqlite3 || apt_install sqlite3
echo "wrk and sqlite3 ready"

step "Release build (scripts/release.sh)"
"$REPO_ROOT/scripts/release.sh" || fail "the release build failed" "read the output above"
cp "$(target_dir)/release/server" "$work/server"
# The content hashes of the bundle's file names, read beside the binary.
cp "$(target_dir)/release/hash.txt" "$work/hash.txt"

step "Bench-only build without session validation (feature bench-bypass)"
cargo build --release -p server --features bench-bypass \
  || fail "the bench-only build failed" "read the compiler errors above"
cp "$(target_dir)/release/server" "$work/server-bypass"
# Leave the normal release binary in place.
cp "$work/server" "$(target_dir)/release/server"

step "Load (wrk; ${BENCH_DURATION:-30} s per level)"
node scripts/bench/load.mjs --server "$work/server" --bypass "$work/server-bypass" \
  --site "$(target_dir)/site" --duration "${BENCH_DURATION:-30}" \
  --connections "${BENCH_CONNECTIONS:-8,64,256}" \
  || fail "the load benchmark failed" "read the output above"
