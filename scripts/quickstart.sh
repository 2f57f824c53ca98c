#!/usr/bin/env bash
# From a fresh clone: install, write a synthetic sample with planted credentials, scan it on the
# embedded PostgreSQL, and show what was found.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/venv.sh
. .venv/bin/activate
if [ -z "${CREDWATCH_HMAC_KEY:-}" ] && [ -z "${CREDWATCH_HMAC_KEY_FILE:-}" ]; then
  # The fingerprint key of this installation, kept next to the embedded database.
  home="$(python -c 'from monitor.store.db import data_dir; print(data_dir())')"
  mkdir -p "$home" && chmod 700 "$home"
  [ -s "$home/hmac.key" ] || (umask 077; python -c 'import secrets; print(secrets.token_hex(32))' > "$home/hmac.key")
  export CREDWATCH_HMAC_KEY_FILE="$home/hmac.key"
fi
credwatch demo demo
echo
echo "== credwatch scan demo/dumps"
rc=0; credwatch scan --config demo/credwatch.toml demo/dumps || rc=$?
[ "$rc" -le 1 ] || exit "$rc"
echo
echo "== credwatch lookup francetravail.fr"
rc=0; credwatch lookup --config demo/credwatch.toml francetravail.fr || rc=$?
[ "$rc" -le 1 ] || exit "$rc"
