#!/usr/bin/env bash
# What the test suite needs from the system, installed when run as root on Debian, otherwise named:
#   - Chromium and Japanese fonts for the browser tests (never a downloaded browser)
#   - PostgreSQL on 127.0.0.1:5432 where the role "postgres" connects without a password, with a database "test"
#   - ClamAV's clamd (started by test/services/clamd.sh with its own test signatures)
#   - poppler-utils (pdftoppm) for the strict PDF 無害化 mode that rebuilds pages as images
#   - Ceph RGW for the S3 tests: radosgw, ceph-mon and ceph-osd (started by test/services/rgw.sh)
# Starts PostgreSQL only if it is not already answering. The packages' own services (clamav-daemon,
# clamav-freshclam, ceph-*) are kept from starting during the install; the tests run their own.
set -euo pipefail

PG_HOST=${KURA_TEST_PG_HOST:-127.0.0.1}
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql)
command -v clamd >/dev/null 2>&1 || missing+=(clamav clamav-daemon)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v radosgw >/dev/null 2>&1 || missing+=(radosgw)
command -v ceph-mon >/dev/null 2>&1 || missing+=(ceph-mon)
command -v ceph-osd >/dev/null 2>&1 || missing+=(ceph-osd)

fresh_pg=no
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "prereqs: installing ${missing[*]}"
    [[ " ${missing[*]} " == *" postgresql "* ]] && fresh_pg=yes
    apt-get update -qq
    # Without systemd (containers), package scripts start services through invoke-rc.d: freshclam
    # would keep trying to reach the internet and clamd would look for signatures that do not exist.
    # A policy-rc.d that denies every start keeps them down (PostgreSQL is started below instead).
    policy=/usr/sbin/policy-rc.d
    own_policy=no
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\n# kura prereqs.sh: no service starts during the install\nexit 101\n' >"$policy"
      chmod 755 "$policy"
      own_policy=yes
      trap '[ "$own_policy" = yes ] && rm -f "$policy"' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ "$own_policy" = yes ]; then
      rm -f "$policy"
      own_policy=no
    fi
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
echo "prereqs: chromium, fonts-noto-cjk, clamd, Ceph RGW (radosgw, ceph-mon, ceph-osd) and PostgreSQL ($PG_HOST:5432, database test) are ready"
