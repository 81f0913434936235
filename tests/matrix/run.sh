#!/usr/bin/env bash
# The ansible-core lines the collection claims (meta/runtime.yml requires_ansible), each in its own venv under
# .cache/matrix/<line>: ansible-test sanity and units on the tarball's contents, with the amazon.aws and
# community.aws of galaxy.yml's range that go with that line. Usage: tests/matrix/run.sh [LINE ...] (default: all).
# Each line's pins are tests/matrix/<line>.txt; a result line per version goes to tests/output/matrix/summary.txt.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
lines=("$@")
[ ${#lines[@]} -gt 0 ] || lines=(2.17 2.18 2.19 2.20 2.21)
out="$repo/tests/output/matrix"
mkdir -p "$out"
: > "$out/summary.txt"

# A line's Python: the newest ansible-core lines need 3.12 or later (pyenv has them on the machines we use).
python_for() {
  local version="$1" candidate
  for candidate in "python$version" "$(pyenv prefix "$version" 2>/dev/null | tail -n 1)/bin/python$version"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import venv' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  for candidate in $(pyenv versions --bare 2>/dev/null | grep "^$version\." || true); do
    echo "$(pyenv prefix "$candidate")/bin/python$version"; return 0
  done
  echo "tests/matrix/run.sh: no Python $version found (install it, or pyenv install $version)" >&2
  return 1
}

failed=0
for line in "${lines[@]}"; do
  pins="$repo/tests/matrix/$line.txt"
  [ -f "$pins" ] || { echo "tests/matrix/run.sh: no pins for ansible-core $line ($pins)" >&2; exit 2; }
  python_version="$(sed -n 's/^# python: *//p' "$pins")"
  venv="$repo/.cache/matrix/$line"
  if [ ! -f "$venv/.installed" ] || [ "$pins" -nt "$venv/.installed" ]; then
    rm -rf "$venv"
    "$(python_for "$python_version")" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$pins" 2>&1 | grep -v "^WARNING: Location" || true
    # The collections of an ansible release, without the ansible-core it requires (a line older than the release's).
    collections="$(sed -n 's/^# collections: *//p' "$pins")"
    if [ -n "$collections" ]; then
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$collections" 2>&1 | grep -v "^WARNING: Location" || true
    fi
    "$venv/bin/python" -c 'import ansible_collections.amazon.aws, boto3, psycopg2, pytest' 
    touch "$venv/.installed"
  fi
  core="$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')"
  aws="$("$venv/bin/python" -c 'import json, ansible_collections.amazon.aws as c, os; print(json.load(open(os.path.join(list(c.__path__)[0], "MANIFEST.json")))["collection_info"]["version"])')"
  echo "== ansible-core $core (Python $python_version, amazon.aws $aws)"
  status="passed"
  # Sanity on the tarball's contents, in a tree of this line's own.
  if ! PATH="$venv/bin:$PATH" bash tests/sanity/run.sh "${TMPDIR:-/tmp}/dbops-aurora-restore-matrix-$line-$(id -u)" > "$out/sanity-$line.log" 2>&1; then
    status="FAILED (sanity: $out/sanity-$line.log)"
  fi
  # The unit tests as ansible-test runs them, on the tarball's contents too.
  if ! PATH="$venv/bin:$PATH" bash tests/sanity/run.sh "${TMPDIR:-/tmp}/dbops-aurora-restore-matrix-units-$line-$(id -u)" units \
       > "$out/units-$line.log" 2>&1; then
    status="FAILED (units: $out/units-$line.log)"
  fi
  units="$(grep -E '^=+ [0-9]+ (passed|failed)' "$out/units-$line.log" | sed 's/^=* *//; s/ in [0-9.]*s.*$//' | paste -sd '+' || true)"
  sanity="$(grep -c '^Running sanity test' "$out/sanity-$line.log" || true) sanity tests"
  echo "ansible-core $core, Python $python_version, amazon.aws $aws: $status ($sanity; units: $units)" | tee -a "$out/summary.txt"
  [ "$status" = passed ] || failed=1
done
exit $failed
