#!/usr/bin/env bash
# Builds Marquee and starts a local world: control-plane, one origin node, two edges, demo
# content on first run. Prints "Marquee is up: http://127.0.0.1:PORT". Stop with Ctrl-C.
# Extra arguments go to `marquee up` (see `marquee up --help`), e.g. ./deploy/up.sh --port 0
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=deploy/setup.sh
source "$ROOT/deploy/setup.sh"
cd "$ROOT"

ensure_packages
choose_target_dir
build_web
ensure_mail_tools
log "cargo build --release --bins"
cargo build --release --bins
exec "$TARGET_DIR/release/marquee" up "$@"
