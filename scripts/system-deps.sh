#!/usr/bin/env bash
# Install the Debian packages credwatch needs: PostgreSQL server binaries (embedded database),
# Hyperscan's shared library (the text screen's SIMD engine; Debian builds it for amd64 only),
# and for the test suite slapd + ldap-utils (OpenLDAP containment tests), samba (a throwaway
# Active Directory DC for the AD containment tests), prometheus (promtool checks /metrics) and
# docker-compose (validates docker-compose.yml offline).
# Root only; idempotent.
set -euo pipefail
want=()
faster=()  # optional: without it credwatch runs, more slowly
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || want+=(postgresql)
if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
  [ -e /usr/lib/x86_64-linux-gnu/libhs.so.5 ] || faster+=(libhyperscan5)
fi
if [ "${1:-}" = "--test" ]; then
  [ -x /usr/sbin/slapd ] || want+=(slapd ldap-utils)
  [ -x /usr/bin/samba-tool ] && [ -x /usr/sbin/samba ] || want+=(samba winbind krb5-user ldb-tools)
  command -v promtool >/dev/null 2>&1 || want+=(prometheus)  # promtool checks /metrics
  command -v docker-compose >/dev/null 2>&1 || want+=(docker-compose)  # checks the compose file
fi
if [ "$(id -u)" != 0 ]; then
  if [ ${#faster[@]} -gt 0 ]; then
    echo "optional Debian packages missing: ${faster[*]} (text is screened more slowly" \
      "without them; as root: apt-get install -y ${faster[*]})" >&2
  fi
  [ ${#want[@]} -eq 0 ] && exit 0
  echo "missing Debian packages: ${want[*]} (run as root: apt-get install -y ${want[*]})" >&2
  exit 1
fi
want+=("${faster[@]}")
[ ${#want[@]} -eq 0 ] && exit 0
echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >/dev/null
