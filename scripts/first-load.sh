#!/usr/bin/env bash
# The first-load benchmark, one command (see BENCHMARKS.md):
#
#   scripts/first-load.sh
#   EXAMPLE_DIR=../session_auth_axum scripts/first-load.sh   # with Leptos' example
#
# Builds the release site (scripts/release.sh), installs Lighthouse from
# npm (pinned) if missing, then loads `/`, `/login` and `/dashboard` in
# Chromium, each from a cold cache: bytes before interactive, time to
# hydrated, the signed-in header on `/`, and Lighthouse (mobile preset) on
# `/` and `/login`. EXAMPLE_DIR names a release build of Leptos'
# `projects/session_auth_axum` (its `target/release/session_auth_axum` and
# `target/site`), measured the same way in the same run. Saves the tables in
# target/bench/first-load.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/setup.sh" --test

LIGHTHOUSE_VERSION="13.5.0"
STEPS=3
STEP=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step "Release build (scripts/release.sh)"
"$REPO_ROOT/scripts/release.sh" || fail "the release build failed" "read the output above"
cp "$(target_dir)/release/server" "$(target_dir)/release/hash.txt" "$work/"

step "Lighthouse $LIGHTHOUSE_VERSION (from npm)"
lighthouse="$(target_dir)/tools/node_modules/lighthouse/cli/index.js"
if [ -f "$lighthouse" ] && grep -q "\"version\": \"$LIGHTHOUSE_VERSION\"" "$(target_dir)/tools/node_modules/lighthouse/package.json"; then
  echo "already installed"
else
  npm install --prefix "$(target_dir)/tools" --no-audit --no-fund --loglevel=error --no-save \
    "binaryen@$BINARYEN_VERSION" "lighthouse@$LIGHTHOUSE_VERSION" \
    || fail "could not install Lighthouse from npm" "check your network; the npm registry must be reachable"
fi

step "First load in Chromium"
example=()
if [ -n "${EXAMPLE_DIR:-}" ]; then
  example=(--example "$EXAMPLE_DIR/target/release/session_auth_axum" --example-site "$EXAMPLE_DIR/target/site")
fi
node scripts/bench/first-load.mjs --server "$work/server" --site "$(target_dir)/site" \
  --lighthouse "$lighthouse" --runs "${FIRST_LOAD_RUNS:-5}" "${example[@]}" \
  || fail "the first-load benchmark failed" "read the output above"
