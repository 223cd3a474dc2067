#!/usr/bin/env bash
# What the test suite needs from the system, installed when run as root on Debian, otherwise named:
#   - Chromium and Japanese fonts for the browser tests (never a downloaded browser)
#   - PostgreSQL on 127.0.0.1:5432 where the role "postgres" connects without a password, with a database "test"
# Starts PostgreSQL only if it is not already answering.
set -euo pipefail

PG_HOST=${KURA_TEST_PG_HOST:-127.0.0.1}
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql)

fresh_pg=no
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "prereqs: installing ${missing[*]}"
    [[ " ${missing[*]} " == *" postgresql "* ]] && fresh_pg=yes
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "prereqs: missing ${missing[*]}; install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

if ! pg_isready -h "$PG_HOST" -p 5432 -q; then
  if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "prereqs: starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start
    for _ in $(seq 1 30); do pg_isready -h "$PG_HOST" -p 5432 -q && break; sleep 1; done
  else
    echo "prereqs: PostgreSQL is not answering on $PG_HOST:5432; start it (pg_ctlcluster <version> main start)" >&2
    exit 1
  fi
fi

if [ "$fresh_pg" = yes ]; then
  # A PostgreSQL we just installed for the tests: let the local test connections in without a password.
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -n 1)
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  su postgres -c "psql -qc 'select pg_reload_conf()'" >/dev/null
fi

if ! psql -h "$PG_HOST" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  echo "prereqs: cannot connect to PostgreSQL at $PG_HOST:5432 as role postgres without a password (the tests need trust auth for local TCP connections)" >&2
  exit 1
fi
if [ "$(psql -h "$PG_HOST" -U postgres -d postgres -Atqc "select 1 from pg_database where datname = 'test'")" != 1 ]; then
  psql -h "$PG_HOST" -U postgres -d postgres -qc 'create database test' >/dev/null
fi
echo "prereqs: chromium, fonts-noto-cjk and PostgreSQL ($PG_HOST:5432, database test) are ready"
