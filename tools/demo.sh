#!/usr/bin/env bash
# make demo: the main job end to end on the local emulator (tools/localaws), then the emulator is stopped.
#   1. emulator up (demo durations: copies and restores take tens of seconds, with AWS's statuses)
#   2. seed: a "production" Aurora cluster in us-east-1 with sample data, and a manual snapshot of it
#   3. playbooks/bootstrap.yml for each account/region (tables, topic, KMS key, secrets, IAM role, alarm)
#   4. prod-west: production's data in the targets' region and account (the source a clone needs)
#   5. playbooks/restore.yml: dev (replace, same account), staging (swap, second account) and qa (a clone of
#      prod-west, tools/demo/clone-target.yml) in parallel, each as its account's operator role with the bootstrap's
#      least-privilege policy (the emulator enforces IAM)
#   6. the restored rows, read as each target's application user, and each run's timeline from the audit table
set -euo pipefail
cd "$(dirname "$0")/.."
state_dir="$PWD/.local/demo"
started=$SECONDS
step() { printf '\n\033[1m== %s\033[0m (%ss)\n' "$1" "$((SECONDS - started))"; }

step "Starting the local AWS emulator (profile demo)"
python -m localaws up --profile demo --state-dir "$state_dir"
trap 'python -m localaws down --state-dir "$state_dir"' EXIT
# shellcheck disable=SC1091
source "$state_dir/localaws.env"

step "Seeding the production source: cluster, sample data, manual snapshot (us-east-1, account 123456789012)"
python -m localaws seed --state-dir "$state_dir" | python -c 'import json,sys; d=json.load(sys.stdin); print("  cluster %(cluster_id)s, snapshot %(snapshot_id)s, tables %(tables)s" % d)'

export ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_CALLBACK_RESULT_FORMAT=yaml
step "Bootstrapping each account/region (only changes are shown)"
# IAM is global to an account: the second region of account B gets only its KMS key.
ANSIBLE_DISPLAY_OK_HOSTS=false ansible-playbook -i inventories/local -i tools/demo/clone-target.yml playbooks/bootstrap.yml \
  -e bootstrap_hosts=bootstrap --limit account-a-us-west-2,account-b-us-west-2
ANSIBLE_DISPLAY_OK_HOSTS=false ansible-playbook -i inventories/local playbooks/bootstrap.yml -e bootstrap_hosts=bootstrap \
  --limit account-b-us-east-1 --tags bootstrap_kms

step "Making prod-west: production's data in us-west-2, the source of qa-app's clone"
python tools/demo/same_region_source.py

step "Restoring dev (replace), staging (swap, cross-account) and qa (clone) in parallel, as each account's operator role"
ANSIBLE_STDOUT_CALLBACK=community.general.unixy ansible-playbook -i inventories/local -i tools/demo/clone-target.yml \
  playbooks/restore.yml

# Read back as each account's operator role: IAM is enforced, as on AWS.
python tools/demo/report.py --database appdb \
  --target dev-app,aurora-restore/dev/app-credentials,arn:aws:iam::123456789012:role/dbops/aurora-restore-operator \
  --target qa-app,aurora-restore/dev/app-credentials,arn:aws:iam::123456789012:role/dbops/aurora-restore-operator \
  --target staging-app,aurora-restore/staging/app-credentials,arn:aws:iam::210987654321:role/dbops/aurora-restore-operator
step "Done"
