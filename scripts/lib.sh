# Shared steps of scripts/start and scripts/test (sourced, not run).

# uv installs exactly what uv.lock pins (with hashes); uv itself is pinned by hash in
# scripts/uv-requirements.txt and kept in its own small venv, out of the project's.
ensure_uv() {
  if [ ! -x .tools/uv/bin/uv ] || ! cmp -s scripts/uv-requirements.txt .tools/uv/requirements.txt; then
    echo "== installing uv (scripts/uv-requirements.txt)" >&2
    rm -rf .tools/uv
    python3 -m venv .tools/uv
    .tools/uv/bin/pip install --quiet --disable-pip-version-check --require-hashes \
      -r scripts/uv-requirements.txt
    cp scripts/uv-requirements.txt .tools/uv/requirements.txt
  fi
}

uv() {
  # The machine's Python, never a downloaded one; the machine's CA certificates (a company
  # proxy's CA included), as pip and npm use them.
  UV_PYTHON_DOWNLOADS=never UV_SYSTEM_CERTS=1 .tools/uv/bin/uv "$@"
}

ensure_runtime_packages() {
  # --inexact keeps the test tools of an earlier scripts/test in the same .venv.
  ensure_uv
  echo "== installing relaygate into .venv (uv.lock)" >&2
  uv sync --quiet --locked --inexact
}

ensure_test_packages() {
  ensure_uv
  echo "== installing relaygate with its test tools into .venv (uv.lock)" >&2
  uv sync --quiet --locked --extra test
}

ensure_node_packages() {
  # The hosted router's Node SDK and the openai npm package, from tests/node/package-lock.json.
  apt_install node:nodejs npm:npm
  if ! cmp -s tests/node/package-lock.json tests/node/node_modules/.installed-lock.json 2>/dev/null; then
    echo "== npm ci (tests/node)" >&2
    npm ci --prefix tests/node --no-audit --no-fund --loglevel=error >&2
    cp tests/node/package-lock.json tests/node/node_modules/.installed-lock.json
  fi
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
  # Chromium drives the Studio's end-to-end tests (Playwright never downloads a browser here).
  apt_install chromium:chromium
  # redis-server: the answer cache's Redis tests start their own (tests/router/test_cache.py).
  apt_install redis-server:redis-server
}

service_up() {
  # service_up HOST PORT: something accepts TCP connections there.
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

ensure_services() {
  # PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) for the scale-out tests and the
  # suite's PostgreSQL run: started when they are installed but down.
  if ! service_up 127.0.0.1 5432 && command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "== starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  fi
  if ! service_up 127.0.0.1 6379 && command -v redis-server >/dev/null 2>&1; then
    echo "== starting Redis" >&2
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  fi
  for _ in $(seq 50); do
    service_up 127.0.0.1 5432 && service_up 127.0.0.1 6379 && return 0
    sleep 0.2
  done
  echo "PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must be running for the tests" >&2
  return 1
}
