#!/usr/bin/env bash
# Runs every test of the project on a fresh clone or a warm one:
#   1. set-up: Debian build/test packages, the virtual environment, the engine build;
#   2. the C++ engine's GoogleTest suite, plain and under ASan/UBSan;
#   3. style and types: clang-format, ruff, mypy, makemigrations --check;
#   4. pytest on SQLite, then again on PostgreSQL.
# With MLOPS_REQUIRE_SERVICES=1 (CI), a missing service is a failure, not a skip.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$MLOPS_ROOT"
JOBS="${MLOPS_JOBS:-$(nproc)}"

have_system=1
ensure_debian_packages cmake g++ ninja-build libgtest-dev graphviz clang-format librsvg2-bin || have_system=0
if [ "$have_system" = 0 ] && require_services; then
  die "MLOPS_REQUIRE_SERVICES=1 and Debian packages are missing"
fi
ensure_venv dev

say "C++ engine tests (Release)"
cmake -S . -B build/cxx-tests -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DMLOPS_ENGINE_PYTHON=OFF -DMLOPS_ENGINE_TESTS=ON -DMLOPS_ENGINE_WERROR=ON >/dev/null
cmake --build build/cxx-tests -j "$JOBS"
ctest --test-dir build/cxx-tests -j "$JOBS" --output-on-failure

say "C++ engine tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build/cxx-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMLOPS_ENGINE_SANITIZE=ON \
  -DMLOPS_ENGINE_PYTHON=OFF -DMLOPS_ENGINE_TESTS=ON -DMLOPS_ENGINE_WERROR=ON >/dev/null
cmake --build build/cxx-asan -j "$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/cxx-asan -j "$JOBS" --output-on-failure

say "Style and types"
clang-format --dry-run -Werror engine/include/mlops/*.hpp engine/src/*.cpp engine/src/*.hpp engine/tests/*.cpp \
  engine/bench/*.cpp engine/bindings/*.cpp engine/bindings/*.hpp
"$PY" -m nanobind.stubgen -q -m django_mlops._engine -o src/django_mlops/_engine.pyi
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"
PYTHONPATH=. "$PY" -m django makemigrations django_mlops --check --dry-run --settings=tests.settings

say "pytest on SQLite"
"$PY" -m pytest -q "$@"

if ensure_postgres; then
  say "pytest on PostgreSQL"
  MLOPS_TEST_DATABASE=postgres "$PY" -m pytest -q "$@"
elif require_services; then
  die "MLOPS_REQUIRE_SERVICES=1 and PostgreSQL is not reachable at 127.0.0.1:5432"
else
  say "SKIPPED pytest on PostgreSQL: no server at 127.0.0.1:5432 (set MLOPS_REQUIRE_SERVICES=1 to make this an error)"
fi
say "All tests passed"
