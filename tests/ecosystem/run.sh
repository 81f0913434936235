#!/usr/bin/env bash
# The collection as Galaxy and the docsite see it, on the tarball `ansible-galaxy collection build` makes:
#   galaxy-importer (metadata, ansible-doc of every plugin, ansible-lint), antsibull-docs lint-collection-docs
#   (plugin and role docs, links, cross-references) and antsibull-docs collection (the docsite's RST pages).
# A venv of its own (.cache/ecosystem, pinned by tests/ecosystem/requirements.txt). Fails on any error or warning.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$repo/.cache/ecosystem"
out="$repo/tests/output/ecosystem"
pins="$repo/tests/ecosystem/requirements.txt"

if [ ! -f "$venv/.installed" ] || [ "$pins" -nt "$venv/.installed" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$pins" 2>&1 | grep -v "^WARNING: Location" || true
  "$venv/bin/python" -c 'import galaxy_importer, antsibull_docs'
  touch "$venv/.installed"
fi

rm -rf "$out"
mkdir -p "$out/build" "$out/collections/ansible_collections/dbops/aurora_restore"
cd "$repo"
# ansible-galaxy of the ecosystem venv: the PATH below keeps the checkout's venv out of every step.
export PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin"
unset PYTHONPATH ANSIBLE_CONFIG
ansible-galaxy collection build --force --output-path "$out/build" >/dev/null
tarball="$(ls "$out"/build/dbops-aurora_restore-*.tar.gz)"
tar -xzf "$tarball" -C "$out/collections/ansible_collections/dbops/aurora_restore"
export ANSIBLE_COLLECTIONS_PATH="$out/collections" ANSIBLE_LOCAL_TEMP="$out/ansible-tmp"

echo "== galaxy-importer"
# (from $out: the importer writes importer_result.json where it runs)
(cd "$out" && GALAXY_IMPORTER_CONFIG="$repo/tests/ecosystem/galaxy-importer.cfg" python -m galaxy_importer.main "$tarball") \
  > "$out/galaxy-importer.log" 2>&1 || {
  cat "$out/galaxy-importer.log"; echo "galaxy-importer failed"; exit 1; }
grep -v "^Loading " "$out/galaxy-importer.log"
if grep -E "^(ERROR|WARNING)" "$out/galaxy-importer.log"; then
  echo "galaxy-importer: the errors and warnings above"; exit 1
fi

echo "== antsibull-docs lint-collection-docs"
(cd "$out/collections/ansible_collections/dbops/aurora_restore" \
  && antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs=dependent .)
echo "lint-collection-docs: clean"

echo "== antsibull-docs collection (the docsite's pages)"
mkdir -m 700 "$out/docsite"
antsibull-docs collection --use-current --squash-hierarchy --dest-dir "$out/docsite" dbops.aurora_restore > "$out/docsite.log" 2>&1 || {
  cat "$out/docsite.log"; exit 1; }
if grep -iE "error|warning" "$out/docsite.log"; then
  echo "antsibull-docs collection: the errors and warnings above"; exit 1
fi
echo "docsite: $(find "$out/docsite" -name '*.rst' | wc -l) pages in $out/docsite"
