# Shared set-up for scripts/test.sh and scripts/demo.sh (sourced, not run).
# Everything here is idempotent and cheap when nothing is missing, so both
# README commands work on a fresh clone and stay fast on a warm one.

MLOPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MLOPS_VENV:-$MLOPS_ROOT/.venv}"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
require_services() { [ "${MLOPS_REQUIRE_SERVICES:-0}" = "1" ]; }

# Debian packages the build and the tests use. Installed when we are root;
# otherwise we say what is missing and let the dependent steps skip or fail.
ensure_debian_packages() {
  local wanted=("$@") missing=() pkg
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "Installing Debian packages: ${missing[*]}"
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
      apt-get update -qq >/dev/null
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "Missing Debian packages (install them as root): ${missing[*]}"
    return 1
  fi
}

# The project's virtual environment with the package installed editable: the
# C++ extension is built (incrementally, in build/) by scikit-build-core.
ensure_venv() {
  local extras="${1:-dev}"
  if [ ! -x "$PY" ]; then
    say "Creating the virtual environment in $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$PY" -m pip install -q --upgrade pip
  fi
  "$PY" -m pip install -q "scikit-build-core>=0.10" "nanobind>=2.4"
  say "Building the engine and installing django-mlops[$extras] (incremental)"
  # Warnings are errors in the project's own builds (a user's pip install has them off).
  # Make, not Ninja: scikit-build-core looks for Ninja by importing the `ninja` module,
  # and in this environment that name is django-ninja (which fails outside Django).
  CMAKE_GENERATOR="Unix Makefiles" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    flock /tmp/django-mlops-build.lock \
    "$PY" -m pip install -q --no-build-isolation -Ccmake.define.MLOPS_ENGINE_WERROR=ON \
    -e "$MLOPS_ROOT[$extras]"
}

postgres_up() { "$PY" - <<'PYEOF' >/dev/null 2>&1
import psycopg
psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3).close()
PYEOF
}

# Start the local PostgreSQL server when it is installed but stopped.
ensure_postgres() {
  postgres_up && return 0
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    say "Starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 20); do postgres_up && return 0; sleep 0.5; done
  fi
  return 1
}
