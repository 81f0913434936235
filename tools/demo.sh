#!/usr/bin/env bash
# make demo: start the local emulator, run the demo playbook against it, stop the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
state_dir="$PWD/.local/demo"
python -m localaws up --profile demo --state-dir "$state_dir" >/dev/null
trap 'python -m localaws down --state-dir "$state_dir" >/dev/null' EXIT
# shellcheck disable=SC1091
source "$state_dir/localaws.env"
ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ansible-playbook tools/demo/audit_trail.yml
