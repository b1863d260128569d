#!/usr/bin/env bash
# Builds and runs the site on the embedded SQLite default at
# http://localhost:3000. The database is created and migrated on first start.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/setup.sh"
STEPS=1
STEP=0
step "Build and serve (cargo leptos serve --split) at http://localhost:3000"
# --split: each lazy island is a WebAssembly chunk of its own (#[island(lazy)]).
exec cargo leptos serve --split
