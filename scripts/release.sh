#!/usr/bin/env bash
# The release build, as deployed: size-optimised WASM run through wasm-opt,
# content-hashed bundle names, and brotli/gzip copies of every file.
#
#   scripts/release.sh    (or: make release)
#
# Ship target/release/server with target/release/hash.txt beside it, and
# target/site (see guides/deployment.md).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$REPO_ROOT/scripts/setup.sh"

STEPS=2
STEP=0
step "binaryen $BINARYEN_VERSION (wasm-opt, from npm)"
have npm || fail "npm not found" "install Node.js 20 or newer with npm, then re-run"
if [ -x "$(binaryen_bin)/wasm-opt" ] && "$(binaryen_bin)/wasm-opt" --version | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  echo "already installed: $("$(binaryen_bin)/wasm-opt" --version)"
else
  npm install --prefix "$(target_dir)/tools" --no-audit --no-fund --loglevel=error --no-save "binaryen@$BINARYEN_VERSION" \
    || fail "could not install binaryen from npm" "check your network; the npm registry must be reachable"
fi

step "Release build (LEPTOS_HASH_FILES=true cargo leptos build --release --precompress)"
# cargo-leptos runs the first wasm-opt on PATH: ours, not an older system one.
export PATH="$(binaryen_bin):$PATH"
wasm-opt --version | grep -q "version ${BINARYEN_VERSION%%.*}" \
  || fail "wasm-opt is not binaryen $BINARYEN_VERSION" "delete $(target_dir)/tools and re-run"
cd "$REPO_ROOT"
LEPTOS_HASH_FILES=true cargo leptos build --release --precompress \
  || fail "the release build failed" "read the compiler errors above"
printf '\nbuilt: %s (with hash.txt beside it) and %s\n' "$(target_dir)/release/server" "$(target_dir)/site"
