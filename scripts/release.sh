#!/usr/bin/env bash
# The release build, as deployed: size-optimised WASM run through wasm-opt
# and split into a chunk per lazy island, content-hashed bundle names, and
# brotli/gzip copies of every file.
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
ensure_binaryen

step "Release build (LEPTOS_HASH_FILES=true cargo leptos build --release --split --precompress)"
cd "$REPO_ROOT"
LEPTOS_HASH_FILES=true cargo leptos build --release --split --precompress \
  || fail "the release build failed" "read the compiler errors above"
printf '\nbuilt: %s (with hash.txt beside it) and %s\n' "$(target_dir)/release/server" "$(target_dir)/site"
