#!/usr/bin/env bash
# ansible-test sanity on what the collection tarball ships (ansible-galaxy collection build, galaxy.yml's
# build_ignore), unpacked under ansible_collections/dbops/aurora_restore: sanity passes on what users install.
# ansible-test's pip bootstrap is replaced by an offline stand-in. Arguments: the directory to work in, the
# ansible-test command (sanity, the default, or units), then its options. The python on PATH (the venv's) runs
# ansible-test, with its own version.
set -euo pipefail
root="$1"
command="${2:-sanity}"
case "$command" in sanity|units) ;; *) echo "tests/sanity/run.sh: command '$command' is not sanity or units" >&2; exit 2 ;; esac
repo="$(cd "$(dirname "$0")/../.." && pwd)"
copy="$root/ansible_collections/dbops/aurora_restore"
python_version="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# ansible-test names its pip bootstrap after the pip version it pins (get_pip_24_2.py for pip 24.2): the stand-in
# goes under every name this ansible-test may ask for.
mkdir -p "$HOME/.ansible/test/cache"
bootstrap_names="$(python "$repo/tests/sanity/pip_bootstrap_names.py")"
for name in $bootstrap_names; do
  cp "$repo/tests/sanity/get_pip_offline.py" "$HOME/.ansible/test/cache/$name"
done

rm -rf "$root"
mkdir -p "$copy" "$root/build"
cd "$repo"
ansible-galaxy collection build --force --output-path "$root/build" >/dev/null
tar -xzf "$root"/build/dbops-aurora_restore-*.tar.gz -C "$copy"

# The collections this one depends on (galaxy.yml), from the installed ansible package, beside the copy.
site_collections="$(python -c 'import ansible_collections, os; print(next(p for p in ansible_collections.__path__ if os.path.isdir(os.path.join(p, "amazon", "aws"))))')"
dependencies="$(python -c 'import sys, yaml; print(" ".join(name.replace(".", "/") for name in yaml.safe_load(open(sys.argv[1]))["dependencies"]))' "$repo/galaxy.yml")"
for dependency in $dependencies; do
  mkdir -p "$root/ansible_collections/${dependency%/*}"
  ln -s "$site_collections/$dependency" "$root/ansible_collections/$dependency"
done

cd "$copy"
# ansible-test lists a collection's files with git when it is a repository: make the copy one.
# What ansible-test writes under tests/output (its venvs among it) is not the collection's.
git init -q && echo "tests/output/" > .git/info/exclude && git add -A >/dev/null
exec ansible-test "$command" --venv --python "$python_version" --color no "${@:3}"
