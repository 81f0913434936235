# Source this file (bash or zsh) to use the checkout from a shell, as the Makefile does:
#   source tools/env.sh
# It puts the checkout's venv first on PATH and exports ANSIBLE_CONFIG, ANSIBLE_COLLECTIONS_PATH and PYTHONPATH
# (the collection and the emulator), so `ansible-playbook`, `ansible-doc`, `pytest` and `python -m localaws` work
# as the docs show them. `make shell` opens a shell with it. It needs `make setup` (or `make demo` / `make test`).

if [ -n "${BASH_VERSION:-}" ]; then
    _dbops_env_file="${BASH_SOURCE[0]}"
elif [ -n "${ZSH_VERSION:-}" ]; then
    # shellcheck disable=SC2296  # zsh's own expansion: the path of the file being sourced
    _dbops_env_file="${(%):-%x}"
else
    echo "tools/env.sh: source it from bash or zsh" >&2
    return 1 2>/dev/null || exit 1
fi
_dbops_root="$(cd "$(dirname "$_dbops_env_file")/.." && pwd)"
unset _dbops_env_file

if [ ! -x "$_dbops_root/.venv/bin/python" ] || [ ! -e "$_dbops_root/.collections/ansible_collections/dbops/aurora_restore" ]; then
    echo "tools/env.sh: $_dbops_root has no .venv or .collections yet: run 'make setup' there first" >&2
    unset _dbops_root
    return 1 2>/dev/null || exit 1
fi

export VIRTUAL_ENV="$_dbops_root/.venv"
case ":$PATH:" in
    *":$VIRTUAL_ENV/bin:"*) ;;
    *) export PATH="$VIRTUAL_ENV/bin:$PATH" ;;
esac
export ANSIBLE_CONFIG="$_dbops_root/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$_dbops_root/.collections"
export PYTHONPATH="$_dbops_root/.collections:$_dbops_root/tools/localaws"
export PYTHONDONTWRITEBYTECODE=1
unset _dbops_root
