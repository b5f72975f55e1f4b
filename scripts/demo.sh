#!/usr/bin/env bash
# The demo: builds everything on a fresh clone, then, in the example/ project on
# SQLite, applies migrations, runs the example pipelines (iris, diabetes, digits)
# with the embedded executors, draws every pipeline's picture to
# example/pictures/, and serves the site at http://127.0.0.1:8000/ until Ctrl-C.
# `scripts/demo.sh --no-serve` stops after the runs and pictures.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$MLOPS_ROOT"

serve=1
[ "${1:-}" = "--no-serve" ] && serve=0

ensure_debian_packages cmake g++ ninja-build librsvg2-bin || say "continuing without them"
ensure_venv examples
cd example
manage() { "$PY" manage.py "$@"; }

say "Migrating the demo database (example/db.sqlite3)"
manage migrate --no-input -v 0

say "The example pipelines"
manage mlops list

mkdir -p pictures
for pipeline in $(manage mlops list --names); do
  manage mlops show "$pipeline" --svg "pictures/$pipeline.svg" --png "pictures/$pipeline.png"
done

say "Running them"
manage mlops run iris --executor threads
manage mlops run diabetes --executor threads
manage mlops run digits --executor processes --workers 2
say "Running iris again: every step comes from the cache"
manage mlops run iris
say "A small sweep over iris's C, for the experiments page to compare"
for C in 0.01 0.1 0.3 3 10; do
  manage mlops run iris -p "C=$C"
done
manage mlops runs --limit 10

say "The models the runs registered (iris-classifier, diabetes-ridge, digits-svc)"
manage mlops models promote iris-classifier production --version 1 --comment "the demo's first release"
manage mlops models list

say "Pictures written to example/pictures/"
ls -1 pictures

if [ "$serve" = 1 ]; then
  manage demo_user
  say "Starting a worker for the runs queued from the site (mlops worker)"
  "$PY" manage.py mlops worker &
  worker=$!
  trap 'kill "$worker" 2>/dev/null; wait "$worker" 2>/dev/null' EXIT
  say "Serving http://127.0.0.1:8000/mlops/ (log in with the demo account above; Ctrl-C to stop)"
  "$PY" manage.py runserver 127.0.0.1:8000
fi
