#!/usr/bin/env bash
# The template test: generates a renamed app into a temporary folder with
# scripts/new-app.sh, checks nothing of the old name is left, and checks
# that both sides compile (the server with `ssr`, the browser bundle with
# `hydrate` for wasm32). Prints "template: N passed" for the test summary.
#
# The generated project builds into this repository's target directory, so
# only its own four crates are compiled; the dependencies are already there.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
project="$work/acme-portal"

"$REPO_ROOT/scripts/new-app.sh" acme-portal "$project" >/dev/null \
  || fail "scripts/new-app.sh failed" "run it by hand: scripts/new-app.sh acme-portal /tmp/acme-portal"
passed=1
echo "generated acme-portal into a temporary folder"

leftovers="$(cd "$project" && grep -rIlP --exclude-dir=.git --exclude=Cargo.lock --exclude=package-lock.json \
  'leptos-sessions|leptos_sessions|Leptos Sessions|(?<!::)(?<!::\{)\bengine::|\buse engine\b|-p engine\b' . || true)"
if [ -n "$leftovers" ]; then
  printf '%s\n' "$leftovers" >&2
  fail "the generated project still names the template in the files above" "extend the renames in scripts/new-app.sh"
fi
grep -q '^name = "acme_portal"' "$project/Cargo.toml" \
  || fail "the engine crate was not renamed" "check the Cargo.toml renames in scripts/new-app.sh"
grep -q 'name = "acme-portal"' "$project/Cargo.toml" \
  || fail "the site was not renamed" "check the Cargo.toml renames in scripts/new-app.sh"
passed=$((passed + 1))
echo "no trace of the template's names is left"

export CARGO_TARGET_DIR="$(target_dir)"
(cd "$project" && cargo check --workspace --exclude frontend --all-targets --quiet) \
  || fail "the generated project does not compile (server side, ssr)" "read the errors above; they are in files scripts/new-app.sh renamed"
passed=$((passed + 1))
echo "server side (ssr) compiles"
(cd "$project" && cargo check -p frontend --target wasm32-unknown-unknown --quiet) \
  || fail "the generated project does not compile (browser side, hydrate)" "read the errors above; they are in files scripts/new-app.sh renamed"
passed=$((passed + 1))
echo "browser side (hydrate, wasm32) compiles"

echo "template: $passed passed"
