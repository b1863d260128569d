#!/usr/bin/env bash
# Runs every test: the Rust tests, then the Playwright suite against a freshly
# built server. Exits non-zero if anything fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

setup_started=$SECONDS
"$REPO_ROOT/scripts/setup.sh" --test
setup_took=$((SECONDS - setup_started))

STEPS=6
# The template test runs in the template only; a generated app has no generator.
template=""
[ -x "$REPO_ROOT/scripts/check-template.sh" ] && template=1 && STEPS=7
STEP=0
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

step "Formatting and lints (cargo fmt --check, cargo clippy -D warnings)"
cargo fmt --all --check || fail "the code is not formatted" "run: cargo fmt --all"
cargo clippy --workspace --exclude frontend --all-targets --quiet -- -D warnings \
  || fail "clippy found problems (server side)" "fix the warnings above"
cargo clippy -p frontend --target wasm32-unknown-unknown --quiet -- -D warnings \
  || fail "clippy found problems (browser side)" "fix the warnings above"
# The workspace builds the engine with every backend; these compile the
# code behind each `cfg(not(feature = …))` too (no backend, SQLite alone,
# PostgreSQL with Redis).
for features in "" sqlite postgres,redis; do
  cargo check -p engine --no-default-features --features "$features" --quiet \
    || fail "the engine does not build with features [$features]" "fix the errors above"
done

step "Build the browser half (cargo leptos build --split --frontend-only)"
# Only the WASM bundle, the CSS and the assets: the server binary the
# Playwright suite runs is the one `cargo test` builds below. Built here too,
# it would be compiled twice, since the tests' dev-dependencies (reqwest's
# HTTP client) change the features of hyper, axum and every crate above them.
cargo leptos build --split --frontend-only || fail "the build failed" "read the compiler errors above"

step "Storage backends for the conformance suite"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
ran="sqlite"
skipped=""
# shellcheck disable=SC2046
if reachable $(host_port "$TEST_DATABASE_URL" 5432); then ran="$ran, postgres"; else skipped="$skipped postgres"; fi
# shellcheck disable=SC2046
if reachable $(host_port "$TEST_REDIS_URL" 6379); then ran="$ran, redis"; else skipped="$skipped redis"; fi
echo "running on: $ran"
if [ -n "$skipped" ]; then
  echo "skipped (server not reachable):$skipped — start it, or set TEST_DATABASE_URL / TEST_REDIS_URL"
fi

step "Rust tests (cargo test; it also builds the server binary)"
cargo test --workspace --exclude frontend 2>&1 | tee "$logs/rust.log" \
  || fail "Rust tests failed" "read the failures above; run one with: cargo test -p <crate> <name>"

step "End-to-end tests (Playwright, Chromium)"
(cd end2end && SERVER_BIN="$(target_dir)/debug/server" npx playwright test) 2>&1 | tee "$logs/e2e.log" \
  || fail "end-to-end tests failed" "open end2end/playwright-report/index.html; traces of failed tests are kept in end2end/test-results/"

step "The release bundle (split, wasm-opt, hashed, precompressed) in Chromium"
# What ships: the size profile, wasm-opt, a chunk per lazy island, hashed
# names and brotli copies. Its own site root, so the debug site stays. The
# debug server serves it (the browser half is what is under test), with the
# release hash.txt beside a copy of the binary, as deployed.
ensure_binaryen
release_site="$(target_dir)/site-release"
LEPTOS_SITE_ROOT="$release_site" LEPTOS_HASH_FILES=true \
  cargo leptos build --release --split --precompress --frontend-only \
  || fail "the release bundle did not build" "read the compiler errors above"
mkdir -p "$logs/release"
cp "$(target_dir)/debug/server" "$(target_dir)/release/hash.txt" "$logs/release/"
(cd end2end && SERVER_BIN="$logs/release/server" E2E_SITE="$release_site" E2E_RELEASE=1 \
  npx playwright test foundation security static-session bundle) 2>&1 | tee "$logs/e2e-release.log" \
  || fail "the release bundle failed in Chromium" "build it with scripts/release.sh and open the page; traces are in end2end/test-results/"

if [ -n "$template" ]; then
  step "Template (generate a renamed app, check both sides compile)"
  "$REPO_ROOT/scripts/check-template.sh" 2>&1 | tee "$logs/template.log" \
    || fail "the template test failed" "see above"
fi

rust=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$logs/rust.log" | awk '{n += $4} END {print n + 0}')
e2e=$(grep -Eo '^ *[0-9]+ passed' "$logs/e2e.log" | tail -n 1 | awk '{print $1 + 0}')
e2e_release=$(grep -Eo '^ *[0-9]+ passed' "$logs/e2e-release.log" | tail -n 1 | awk '{print $1 + 0}')
gen=$(grep -Eo '^template: [0-9]+ passed' "$logs/template.log" 2>/dev/null | awk '{print $2 + 0}')
gen=${gen:-0}
printf '\nall tests passed (Rust: %s, Playwright: %s, Playwright on the release bundle: %s, template: %s)\n' "$rust" "$e2e" "$e2e_release" "$gen"
printf 'store conformance suite ran on: %s%s\n' "$ran" "${skipped:+ (skipped:$skipped)}"
step_summary "time per step (after $((setup_took / 60)) min $((setup_took % 60)) s of set-up):"
echo "tests: $((rust + e2e + e2e_release + gen)) passed, 0 failed"
