# Shared helpers for the set-up, run and test scripts. Source, don't execute.

# Pinned tool versions. wasm-bindgen must equal the `wasm-bindgen` crate
# version in Cargo.toml exactly, or the build fails at the bindgen step.
CARGO_LEPTOS_VERSION="0.3.10"
WASM_BINDGEN_VERSION="0.2.130"
# The OpenID provider the tests sign in with (PyPI), in end2end/.venv.
OIDC_MOCK_VERSION="0.3.4"
# wasm-opt for release builds, from npm's `binaryen`: Debian's binaryen 108
# renumbers the table that wasm-bindgen exports for JS values (even at -O0),
# and the page then fails to hydrate.
BINARYEN_VERSION="132.0.0"

STEP=0
STEPS=${STEPS:-1}
STEP_NAME=""
STEP_STARTED=""
STEP_TIMES=()

# step "what is happening" — ends the step before (printing its time) and
# prints a numbered header for the next.
step() {
  step_done
  STEP=$((STEP + 1))
  STEP_NAME="$1"
  STEP_STARTED=$SECONDS
  printf '\n\033[1m[%d/%d] %s\033[0m\n' "$STEP" "$STEPS" "$1"
}

# step_done — ends the current step, printing how long it took.
step_done() {
  [ -n "$STEP_STARTED" ] || return 0
  local took=$((SECONDS - STEP_STARTED))
  printf '\033[2m  … %s: %d min %02d s\033[0m\n' "$STEP_NAME" $((took / 60)) $((took % 60))
  STEP_TIMES+=("$(printf '%3d min %02d s  %s' $((took / 60)) $((took % 60)) "$STEP_NAME")")
  STEP_STARTED=""
}

# step_summary "title" — ends the current step, then lists every step's time.
step_summary() {
  step_done
  printf '\n%s\n' "$1"
  printf '  %s\n' "${STEP_TIMES[@]}"
}

# Tools are built for a fast build, not a fast run: their own release
# profile (LTO, one codegen unit, full optimisation) is most of a fresh
# machine's first wait, for programs that handle a few megabytes per
# build. Unoptimised, except the crates that do that work (reading and
# writing WebAssembly, splitting it, brotli), so a build with them takes
# the same time. Measured (fresh CARGO_HOME, 2 cores): cargo-leptos 12 min
# → 5 min 19 s, wasm-bindgen 2 min → 1 min 8 s.
cheap_install() {
  local hot=()
  for crate in walrus brotli wasm-bindgen-cli-support wasm_split_cli_support; do
    hot+=(--config "profile.release.package.$crate.opt-level=2")
  done
  CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
    CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install "${hot[@]}" "$@"
}

# fail "what went wrong" "what to do" — prints a readable failure and exits.
fail() {
  printf '\n\033[31merror:\033[0m %s\n' "$1" >&2
  [ -n "${2:-}" ] && printf '  what to do: %s\n' "$2" >&2
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# Runs apt-get as root, through sudo when needed.
apt_install() {
  local runner=()
  if [ "$(id -u)" -ne 0 ]; then
    have sudo || fail "installing $* needs root" "install the Debian package(s) '$*' yourself, then re-run"
    runner=(sudo)
  fi
  have apt-get || fail "apt-get not found: cannot install $*" "install '$*' with your system's package manager, then re-run"
  if [ -z "${APT_UPDATED:-}" ]; then
    "${runner[@]}" apt-get update -qq || fail "apt-get update failed" "check your network or proxy settings"
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive "${runner[@]}" apt-get install -y -qq --no-install-recommends "$@" \
    || fail "apt-get install $* failed" "install the Debian package(s) '$*' yourself, then re-run"
}

# The cargo target directory (CARGO_TARGET_DIR or ./target).
target_dir() {
  echo "${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
}

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# cargo-leptos compiles the app with LEPTOS_OUTPUT_NAME set, and Leptos reads
# it at compile time. Plain `cargo test` must see the same value, or every
# Leptos crate is rebuilt twice.
export LEPTOS_OUTPUT_NAME="leptos-sessions"

# reachable HOST PORT — whether something accepts TCP connections there.
reachable() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# host_port URL DEFAULT_PORT — "host port" of a postgres:// or redis:// URL.
host_port() {
  local rest="${1#*://}"
  rest="${rest#*@}"
  rest="${rest%%/*}"
  rest="${rest%%\?*}"
  local host="${rest%%:*}" port="$2"
  [ "$rest" != "$host" ] && port="${rest##*:}"
  echo "$host $port"
}

# Where scripts/release.sh installs npm's binaryen (its bin/ holds wasm-opt).
binaryen_bin() {
  echo "$(target_dir)/tools/node_modules/.bin"
}

# ensure_binaryen — installs npm's binaryen (wasm-opt) if missing and puts it
# first on PATH: cargo-leptos runs the first wasm-opt it finds.
ensure_binaryen() {
  have npm || fail "npm not found" "install Node.js 20 or newer with npm, then re-run"
  if [ -x "$(binaryen_bin)/wasm-opt" ] && "$(binaryen_bin)/wasm-opt" --version | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    echo "already installed: $("$(binaryen_bin)/wasm-opt" --version)"
  else
    npm install --prefix "$(target_dir)/tools" --no-audit --no-fund --loglevel=error --no-save "binaryen@$BINARYEN_VERSION" \
      || fail "could not install binaryen from npm" "check your network; the npm registry must be reachable"
  fi
  export PATH="$(binaryen_bin):$PATH"
  wasm-opt --version | grep -q "version ${BINARYEN_VERSION%%.*}" \
    || fail "wasm-opt is not binaryen $BINARYEN_VERSION" "delete $(target_dir)/tools and re-run"
}
