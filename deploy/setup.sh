# Shared setup for deploy/up.sh and deploy/test.sh (sourced, not run): system packages, the
# cargo target directory and the web app build. Expects ROOT to be the repository root.

# Debian packages Marquee needs, as "package:command" (the command shows it is installed).
MARQUEE_PACKAGES=(cmake:cmake ffmpeg:ffmpeg chromium:chromium nginx:nginx wrk:wrk nodejs:node npm:npm iproute2:ip python3:python3)

# PyPI tools the tests drive, pinned: schemathesis fuzzes origin's OpenAPI document; moto's
# server is the S3-compatible store origin's S3 blobs are tested against.
MARQUEE_PY_TOOLS=(schemathesis==4.32.5 "moto[server]==5.2.5")

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs whatever is missing when root; otherwise says exactly what to install.
ensure_packages() {
  local missing=() entry pkg cmd
  for entry in "${MARQUEE_PACKAGES[@]}"; do
    pkg="${entry%%:*}" cmd="${entry##*:}"
    if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1; then
      missing+=("$pkg")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them as root, then run this again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # apt on these machines sometimes fails once with "cannot access archive": retry once.
  if ! apt-get install -y -q "${missing[@]}"; then
    log "apt-get install failed; retrying once"
    sleep 3
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
  fi
}

# A persistent target dir when one is around (CI caches, shared machines), else cargo's default.
choose_target_dir() {
  if [ -z "${CARGO_TARGET_DIR:-}" ] && [ -d /work/target ]; then
    export CARGO_TARGET_DIR=/work/target
  fi
  TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
}

# npm ci when node_modules is absent or older than the lock file.
npm_install() {
  local dir="$1"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] \
     || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "npm ci in ${dir#"$ROOT"/}"
    # In the directory, not with --prefix: npm 11 looks for the lock file elsewhere then.
    (cd "$dir" && npm ci --no-audit --no-fund) || return
  fi
}

# Callers may run this where `set -e` is off (`step ... || exit`), so failures return early.
build_web() {
  npm_install "$ROOT/origin/web" || return
  log "building the web app (origin/web/dist)"
  (cd "$ROOT/origin/web" && npm run build)
}

# Installs the Python tools into a venv of their own (no system packages touched) and exports
# MARQUEE_SCHEMATHESIS for the tests. Reinstalls when the pinned versions change.
ensure_python_tools() {
  local venv="${MARQUEE_TOOLS_DIR:-$HOME/.cache/marquee}/venv" want="${MARQUEE_PY_TOOLS[*]}"
  if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$want" ]; then
    log "installing $want from PyPI into $venv"
    # Debian's python3 needs python3-venv for `-m venv`; install it when missing (root).
    if ! python3 -m venv "$venv"; then
      rm -rf "$venv"
      local saved=("${MARQUEE_PACKAGES[@]}")
      MARQUEE_PACKAGES=(python3-venv:marquee-needs-python3-venv)  # a command no one has
      ensure_packages
      MARQUEE_PACKAGES=("${saved[@]}")
      python3 -m venv "$venv" || return
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check "${MARQUEE_PY_TOOLS[@]}" || return
    echo "$want" > "$venv/.installed"
  fi
  export MARQUEE_SCHEMATHESIS="$venv/bin/schemathesis" MARQUEE_MOTO_SERVER="$venv/bin/moto_server"
}

# Installs MailDev (npm, pinned in deploy/mail) and exports MARQUEE_MAILDEV: the local SMTP
# server with a web inbox that `marquee up` and the tests deliver notification emails to.
ensure_mail_tools() {
  npm_install "$ROOT/deploy/mail" || return
  export MARQUEE_MAILDEV="$ROOT/deploy/mail/node_modules/.bin/maildev"
}
