#!/usr/bin/env bash
# Runs Marquee's whole test suite: the web app's unit tests, formatting, clippy, every crate's
# unit and integration tests, and the browser end-to-end tests in real headless Chromium.
# Exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=deploy/setup.sh
source "$ROOT/deploy/setup.sh"
cd "$ROOT"

RESULTS=()
FAILED=0
START=$SECONDS
RUNNING=""
# Longest a test step may run: a hung test fails its step (and says so) instead of eating CI's
# whole budget and leaving no summary.
STEP_LIMIT_S=1800

summary() {
  echo
  echo "==================== test summary ===================="
  local r
  if [ -n "$RUNNING" ]; then
    RESULTS+=("FAIL  $RUNNING (interrupted after $((SECONDS - RUNNING_SINCE)) s)")
    FAILED=1
  fi
  for r in "${RESULTS[@]}"; do echo "  $r"; done
  echo "  total: $((SECONDS - START)) s"
  if [ "$FAILED" -ne 0 ]; then echo "  RESULT: FAILED"; else echo "  RESULT: passed"; fi
  echo "======================================================"
}
trap summary EXIT

# step NAME COMMAND...: runs a step, records pass/fail and its duration, keeps going.
step() {
  local name="$1" t0=$SECONDS status=0
  shift
  log "$name"
  RUNNING="$name" RUNNING_SINCE=$SECONDS
  "$@" || status=$?
  RUNNING=""
  if [ "$status" -eq 0 ]; then
    RESULTS+=("PASS  $name ($((SECONDS - t0)) s)")
  else
    RESULTS+=("FAIL  $name ($((SECONDS - t0)) s, exit $status)")
    FAILED=1
  fi
  return "$status"
}

e2e_tests() {
  local files=()
  mapfile -t files < <(find deploy/e2e -path '*/node_modules' -prune -o -name '*.test.mjs' -print | sort)
  if [ "${#files[@]}" -eq 0 ]; then
    echo "no browser tests found in deploy/e2e" >&2
    return 1
  fi
  MARQUEE_BIN="$TARGET_DIR/debug/marquee" timeout -k 30 "$STEP_LIMIT_S" node --test "${files[@]}"
}

ensure_packages
choose_target_dir
if ! cargo fmt --version >/dev/null 2>&1 && command -v rustup >/dev/null; then
  rustup component add rustfmt
fi
if ! cargo clippy --version >/dev/null 2>&1 && command -v rustup >/dev/null; then
  rustup component add clippy
fi

# Setup and build failures stop the run; test failures are all collected first.
step "web app build" build_web || exit 1
web_unit_tests() { (cd "$ROOT/origin/web" && npm test); }
step "web unit tests (vitest)" web_unit_tests || true
step "npm ci (deploy/e2e)" npm_install "$ROOT/deploy/e2e" || exit 1
step "python tools (schemathesis, moto)" ensure_python_tools || exit 1
step "mail server (maildev)" ensure_mail_tools || exit 1
step "cargo fmt --check" cargo fmt --all --check || true
step "cargo clippy (-D warnings)" cargo clippy --workspace --all-targets -- -D warnings || true
step "cargo build (bins and tests)" cargo build --workspace --bins --tests || exit 1
step "cargo test --workspace" timeout -k 30 "$STEP_LIMIT_S" cargo test --workspace || true
step "browser e2e (node --test deploy/e2e)" e2e_tests || true

exit "$FAILED"
