#!/usr/bin/env bash
# What the benchmarks (npm run bench) need from the system beyond the test prerequisites:
#   - nginx: the same-run ceiling for HTTPS downloads (bench/files.ts starts its own nginx with its
#     own config in a temp dir; the system service is never used)
#   - wrk: the same-run ceiling for request rates
#   - clamd (scripts/prereqs.sh installs it): the scan-latency ceiling
# Installs them when run as root on Debian, otherwise prints what is missing. The packages' own
# services are kept from starting during the install (a policy-rc.d that denies every start).
set -euo pipefail

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v clamd >/dev/null 2>&1 || missing+=(clamav clamav-daemon)

if [ ${#missing[@]} -eq 0 ]; then
  echo "bench prereqs: all present"
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "bench prereqs: installing ${missing[*]}"
  apt-get update -qq
  policy=/usr/sbin/policy-rc.d
  own_policy=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# kura bench/prereqs.sh: no service starts during the install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=yes
    trap '[ "$own_policy" = yes ] && rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$own_policy" = yes ]; then
    rm -f "$policy"
    own_policy=no
  fi
  echo "bench prereqs: installed ${missing[*]}"
else
  echo "bench prereqs: missing ${missing[*]}; install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
