#!/usr/bin/env bash
# This app's signed-in SSR pages against Leptos' session example, one run
# (see BENCHMARKS.md):
#
#   EXAMPLE_DIR=../session_auth_axum scripts/versus.sh
#
# EXAMPLE_DIR is a release build of Leptos' `projects/session_auth_axum`
# (`cargo leptos build --release`; BENCHMARKS.md says how it was set up and
# what was changed: TCP_NODELAY on). Builds this app's release site, then
# runs wrk -t1 -c32 on both (VERSUS_DURATION seconds per route, 10 by
# default): this app on SQLite, and on PostgreSQL too when one answers at
# VERSUS_POSTGRES (postgres://postgres@127.0.0.1:5432 by default; "off"
# skips it). Saves the table in target/bench/versus.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

[ -n "${EXAMPLE_DIR:-}" ] || fail "EXAMPLE_DIR is not set" "build Leptos' session_auth_axum example (see BENCHMARKS.md) and point EXAMPLE_DIR at it"
[ -x "$EXAMPLE_DIR/target/release/session_auth_axum" ] \
  || fail "no release build in $EXAMPLE_DIR" "run: cd $EXAMPLE_DIR && cargo leptos build --release --precompress"
"$REPO_ROOT/scripts/setup.sh" --test

STEPS=2
STEP=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step "Release build (scripts/release.sh) and wrk"
have wrk || apt_install wrk
"$REPO_ROOT/scripts/release.sh" || fail "the release build failed" "read the output above"
cp "$(target_dir)/release/server" "$(target_dir)/release/hash.txt" "$work/"

step "Side by side (wrk -t1 -c32, ${VERSUS_DURATION:-10} s per route)"
node scripts/bench/versus.mjs --server "$work/server" --site "$(target_dir)/site" \
  --example "$EXAMPLE_DIR/target/release/session_auth_axum" --example-site "$EXAMPLE_DIR/target/site" \
  --duration "${VERSUS_DURATION:-10}" --connections 32 \
  --postgres "${VERSUS_POSTGRES:-postgres://postgres@127.0.0.1:5432}" \
  || fail "the side-by-side benchmark failed" "read the output above"
