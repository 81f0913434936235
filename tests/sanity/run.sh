#!/usr/bin/env bash
# ansible-test sanity on what the collection tarball ships (ansible-galaxy collection build, galaxy.yml's
# build_ignore), unpacked under ansible_collections/dbops/aurora_restore: sanity passes on what users install.
# ansible-test's pip bootstrap is replaced by an offline stand-in.
set -euo pipefail
root="$1"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
copy="$root/ansible_collections/dbops/aurora_restore"

mkdir -p "$HOME/.ansible/test/cache"
cp "$repo/tests/sanity/get_pip_offline.py" "$HOME/.ansible/test/cache/get_pip_24_2.py"

rm -rf "$root"
mkdir -p "$copy" "$root/build"
cd "$repo"
ansible-galaxy collection build --force --output-path "$root/build" >/dev/null
tar -xzf "$root"/build/dbops-aurora_restore-*.tar.gz -C "$copy"

# The collections this one depends on, from the installed ansible package, beside the copy.
site_collections="$(python -c 'import ansible_collections, os; print(next(p for p in ansible_collections.__path__ if os.path.isdir(os.path.join(p, "amazon", "aws"))))')"
for dependency in amazon/aws community/postgresql; do
  mkdir -p "$root/ansible_collections/${dependency%/*}"
  ln -s "$site_collections/$dependency" "$root/ansible_collections/$dependency"
done

cd "$copy"
# ansible-test lists a collection's files with git when it is a repository: make the copy one.
git init -q && git add -A >/dev/null
exec ansible-test sanity --venv --python 3.11 --color no "${@:2}"
