# Shared set-up for scripts/run and scripts/test. Every step is idempotent: it installs only what
# is missing, so a warm machine skips straight to the work.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Build output lives outside the clone so that later runs (and CI) reuse it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tandem-target}"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# Runs a named step and prints how long it took.
step() {
  local name="$1"
  shift
  say "$name"
  local started=$SECONDS
  "$@"
  printf '    (%s: %ss)\n' "$name" "$((SECONDS - started))"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock
}

ensure_wasm_bindgen() {
  local wanted
  wanted="$(wasm_bindgen_version)"
  if [ -z "$wanted" ]; then
    echo "error: no wasm-bindgen in Cargo.lock" >&2
    return 1
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wanted\$"; then
    say "installing wasm-bindgen-cli $wanted (a few minutes, once)"
    cargo install wasm-bindgen-cli --version "$wanted" --force
  fi
}

ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Debian's Chromium for the browser tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  fi
}

ensure_e2e_packages() {
  if [ ! -d e2e/node_modules ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
    say "installing the e2e test packages (npm ci)"
    (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

ensure_browser_test_tools() {
  ensure_chromium
  ensure_e2e_packages
}

# The Playwright specs start their own `tandem serve` from this binary (see e2e/playwright.config.ts).
run_e2e() {
  export TANDEM_BIN="$CARGO_TARGET_DIR/debug/tandem"
  (cd e2e && npx playwright test)
}

build_frontend() {
  ensure_wasm_target
  ensure_wasm_bindgen
  "$ROOT/scripts/build-frontend"
}
