#!/usr/bin/env bash
# The emulator backs every Aurora cluster with a real PostgreSQL server: make sure its binaries exist.
set -euo pipefail
PG_BIN="${LOCALAWS_PG_BIN:-/usr/lib/postgresql/15/bin}"
if [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" && -x "$PG_BIN/postgres" ]]; then
  exit 0
fi
echo "PostgreSQL server binaries not found in $PG_BIN: installing the Debian package postgresql" >&2
if [[ "$(id -u)" -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
test -x "$PG_BIN/initdb" || { echo "PostgreSQL installed but $PG_BIN/initdb is missing; set LOCALAWS_PG_BIN" >&2; exit 1; }
