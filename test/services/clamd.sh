#!/usr/bin/env bash
# clamd for the tests on 127.0.0.1:3311 with a signature database of its own: the EICAR test pattern
# as an .ndb and an .hdb signature (Debian ships no signatures and freshclam cannot download here).
# All state (config, database, log, pid) lives in .test-output/clamd.
#   bash test/services/clamd.sh start   reuses a clamd already answering PING, otherwise starts one
#   bash test/services/clamd.sh stop    stops the clamd this script started
# `start` ends with a KURA_TEST_CLAMD=… line for the test environment and a line `clamd: started`
# or `clamd: reused` (scripts/test.mjs stops only what it started).
# Needs: apt-get install -y --no-install-recommends clamav clamav-daemon (scripts/prereqs.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
D="$ROOT/.test-output/clamd"
HOST=127.0.0.1
PORT=3311
# The 68-byte EICAR test string, kept in hex so no scanner flags this script.
EICAR_HEX=58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a

log() { echo "clamd: $*" >&2; }

fail() {
  log "$*"
  if [ -f "$D/clamd.log" ]; then
    echo "----- $D/clamd.log (last 30 lines)" >&2
    tail -n 30 "$D/clamd.log" >&2
  fi
  if [ -f "$D/clamd.stdout" ]; then
    echo "----- $D/clamd.stdout (last 30 lines)" >&2
    tail -n 30 "$D/clamd.stdout" >&2
  fi
  [ "${STARTING:-no}" = yes ] && stop_clamd
  exit 1
}

# Sends one zero-terminated clamd command (plus an optional raw payload) and prints the reply.
ask() {
  timeout 10 bash -c '
    exec 3<>/dev/tcp/$0/$1 || exit 1
    printf "%s\0" "$2" >&3
    [ -n "$3" ] && printf "$3" >&3
    IFS= read -r -d "" reply <&3 || [ -n "$reply" ]
    printf "%s" "$reply"
  ' "$HOST" "$PORT" "$1" "${2:-}" 2>/dev/null
}

answering() { [ "$(ask zPING)" = PONG ]; }

# INSTREAM of the EICAR string: proves the test signatures are loaded (a clamd with another
# database would answer OK and the infected-file tests would pass for the wrong reason).
detects_eicar() {
  local data
  data=$(sed 's/../\\x&/g' <<<"$EICAR_HEX")
  # chunk: 4-byte big-endian length (68 = 0x44), the bytes, then a zero-length chunk to end.
  [[ $(ask zINSTREAM "\\x00\\x00\\x00\\x44$data\\x00\\x00\\x00\\x00") == *"FOUND" ]]
}

stop_clamd() {
  local pidfile pid
  for pidfile in "$D/clamd.pid" "$D/clamd.bgpid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill -0 "$pid" 2>/dev/null || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "clamd ($pid) did not stop in 10 s; killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}

start() {
  if answering; then
    detects_eicar || fail "a clamd answers on $HOST:$PORT without the test signatures; stop it (bash test/services/clamd.sh stop) or free the port"
    echo "KURA_TEST_CLAMD=tcp://$HOST:$PORT"
    echo "clamd: reused"
    return
  fi
  command -v clamd >/dev/null 2>&1 || fail "clamd is missing; run scripts/prereqs.sh as root (apt-get install -y --no-install-recommends clamav clamav-daemon)"
  local t0=$SECONDS
  stop_clamd # a leftover that no longer answers
  rm -rf "$D"
  STARTING=yes
  trap 'fail "interrupted"' INT TERM
  mkdir -p "$D/db" "$D/tmp"
  # clamd runs as whoever starts it (no User line): root in CI, the developer otherwise.
  chmod 700 "$D"
  cat >"$D/db/test.ndb" <<NDB
Kura.Test.Eicar.NDB:0:*:$EICAR_HEX
NDB
  cat >"$D/db/test.hdb" <<'HDB'
44d88612fea8a8f36de82e1278abb02f:68:Kura.Test.Eicar.HDB
HDB
  # Limits at clamd's maximum so no test upload is over them; AlertExceedsMax so anything that is
  # over a limit comes back FOUND (Heuristics.Limits.Exceeded) rather than OK without being scanned.
  cat >"$D/clamd.conf" <<CONF
Foreground yes
TCPSocket $PORT
TCPAddr $HOST
DatabaseDirectory $D/db
TemporaryDirectory $D/tmp
LogFile $D/clamd.log
LogTime yes
PidFile $D/clamd.pid
StreamMaxLength 4000M
MaxFileSize 4000M
MaxScanSize 4000M
AlertExceedsMax yes
AlertEncrypted yes
DisableCache no
MaxThreads 8
CONF
  setsid clamd -c "$D/clamd.conf" </dev/null >"$D/clamd.stdout" 2>&1 &
  echo $! >"$D/clamd.bgpid"
  local ok=no
  for _ in $(seq 1 120); do
    if answering; then
      ok=yes
      break
    fi
    kill -0 "$(cat "$D/clamd.bgpid")" 2>/dev/null || fail "clamd exited during start"
    sleep 0.5
  done
  [ $ok = yes ] || fail "clamd did not answer PING on $HOST:$PORT within 60 s"
  detects_eicar || fail "clamd answers but does not detect the EICAR test pattern"
  STARTING=no
  log "ready on $HOST:$PORT after $((SECONDS - t0)) s (state in $D)"
  echo "KURA_TEST_CLAMD=tcp://$HOST:$PORT"
  echo "clamd: started"
}

case "${1:-}" in
  start) start ;;
  stop) stop_clamd ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
