# Shared steps of scripts/start and scripts/test (sourced, not run).

ensure_venv() {
  if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv" >&2
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
  fi
}

ensure_test_packages() {
  echo "== installing relaygate with its test tools" >&2
  .venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
}

apt_install() {
  # Debian packages the tests need; installed once, only when missing.
  local missing=()
  for spec in "$@"; do
    local command=${spec%%:*} package=${spec##*:}
    command -v "$command" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root or install them)" >&2
    return 1
  fi
  echo "== apt-get install ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_system_packages() {
  :
}
