#!/usr/bin/env bash
# Installs whatever is missing to build and run the site (and, with --test,
# to test it). Idempotent: a second run only checks.
#
#   scripts/setup.sh          tools to build and run
#   scripts/setup.sh --test   also Chromium and the Playwright packages
set -euo pipefail
source "$(dirname "$0")/lib.sh"

for_test=false
[ "${1:-}" = "--test" ] && for_test=true
STEPS=4
$for_test && STEPS=7

step "Rust toolchain"
have cargo || fail "cargo not found" "install Rust with rustup (https://rustup.rs), then re-run"
have rustup || fail "rustup not found; it is needed to add the WebAssembly target" "install Rust with rustup"
cargo --version

step "WebAssembly target (wasm32-unknown-unknown)"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "already installed"
else
  rustup target add wasm32-unknown-unknown || fail "could not add the wasm32 target" "run: rustup target add wasm32-unknown-unknown"
fi

step "wasm-bindgen CLI $WASM_BINDGEN_VERSION"
if have wasm-bindgen && [ "$(wasm-bindgen --version | awk '{print $2}')" = "$WASM_BINDGEN_VERSION" ]; then
  echo "already installed"
else
  echo "compiling from crates.io (about a minute on 2 cores)…"
  # No --locked: the CLI's lock file names a crate release the registry lacks.
  cheap_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" \
    || fail "could not install wasm-bindgen-cli" "check the output above; a C compiler (gcc) must be installed"
fi

step "cargo-leptos $CARGO_LEPTOS_VERSION"
if have cargo-leptos && cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  echo "already installed"
else
  echo "compiling from crates.io (about 5 minutes on 2 cores, once per machine)…"
  # no_downloads: a missing tool is an error rather than a download attempt.
  cheap_install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads \
    || fail "could not install cargo-leptos" "check the output above; a C compiler (gcc) must be installed"
fi

if $for_test; then
  step "Chromium (for the Playwright tests)"
  chromium_bin="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$chromium_bin" ]; then
    echo "already installed: $("$chromium_bin" --version 2>/dev/null || echo "$chromium_bin")"
  else
    apt_install chromium
  fi

  step "Playwright packages (npm)"
  have npm || fail "npm not found" "install Node.js 20 or newer with npm, then re-run"
  (cd "$REPO_ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error) \
    || fail "npm ci failed in end2end/" "check your network; the npm registry must be reachable"

  step "OpenID provider for the tests (PyPI oidc-provider-mock $OIDC_MOCK_VERSION)"
  venv="$REPO_ROOT/end2end/.venv"
  if [ -x "$venv/bin/oidc-provider-mock" ] && "$venv/bin/pip" show oidc-provider-mock 2>/dev/null | grep -qx "Version: $OIDC_MOCK_VERSION"; then
    echo "already installed"
  else
    have python3 || apt_install python3 python3-venv
    # Debian's python3 makes a venv only with python3-venv (ensurepip).
    python3 -m venv "$venv" 2>/dev/null || { rm -rf "$venv"; apt_install python3-venv; python3 -m venv "$venv"; } \
      || fail "could not make a Python venv in end2end/.venv" "install python3-venv, then re-run"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "oidc-provider-mock==$OIDC_MOCK_VERSION" \
      || fail "pip could not install oidc-provider-mock" "check your network; PyPI must be reachable"
  fi
fi

step_summary "set-up complete; time per step:"
