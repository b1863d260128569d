#!/usr/bin/env bash
# Runs every test: the Rust tests, then the Playwright suite against a freshly
# built server. Exits non-zero if anything fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/setup.sh" --test

STEPS=3
STEP=0

step "Build the site (cargo leptos build)"
cargo leptos build || fail "the build failed" "read the compiler errors above"

step "Rust tests (cargo test)"
cargo test --workspace --exclude frontend \
  || fail "Rust tests failed" "read the failures above; run one with: cargo test -p <crate> <name>"

step "End-to-end tests (Playwright, Chromium)"
(cd end2end && SERVER_BIN="$(target_dir)/debug/server" npx playwright test) \
  || fail "end-to-end tests failed" "open end2end/playwright-report/index.html; traces of failed tests are kept in end2end/test-results/"

printf '\nall tests passed\n'
