#!/usr/bin/env bash
# S3-compatible server for the tests: Debian's Ceph (mon + one in-memory OSD) and radosgw on
# 127.0.0.1:7480 with a test user and the bucket "kura-test". All state lives in .test-output/rgw
# (the OSD keeps data in RAM, so a restart starts empty).
#   bash test/services/rgw.sh start   reuses a server already answering, otherwise starts one
#   bash test/services/rgw.sh stop    stops the daemons this script started
# `start` ends with KURA_TEST_S3_*=… lines for the test environment and a line
# `rgw: started` or `rgw: reused` (scripts/test.mjs stops only what it started).
# Needs: apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd (scripts/prereqs.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
D="$ROOT/.test-output/rgw"
HOST=127.0.0.1
PORT=7480
MON_PORT=6789
BUCKET=kura-test
# Fixed test credentials for a throwaway local server; never used anywhere else.
ACCESS_KEY=KURATESTACCESSKEY001
SECRET_KEY=kura-test-secret-key-not-a-real-secret-01
CONF="$D/ceph.conf"

log() { echo "rgw: $*" >&2; }

tail_logs() {
  for f in "$D"/log/*; do
    [ -f "$f" ] || continue
    echo "----- $f (last 15 lines)" >&2
    tail -n 15 "$f" >&2
  done
}

fail() {
  log "$*"
  tail_logs
  [ "${STARTING:-no}" = yes ] && stop_daemons
  exit 1
}

# 0 when radosgw answers an anonymous GET / with HTTP 200 (bash only: no curl on a clean machine).
answering() {
  local line
  line=$(timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$PORT && printf 'GET / HTTP/1.0\r\nHost: $HOST\r\n\r\n' >&3 && head -n 1 <&3" 2>/dev/null) || return 1
  [[ $line == HTTP/1.?\ 200* ]]
}

# Creates the bucket with the test credentials unless it exists (AWS SDK from node_modules). Region
# us-east-1 here: for any other the SDK sends it as LocationConstraint, which RGW's zonegroup
# "default" refuses; object requests signed for ap-northeast-1 are accepted.
ensure_bucket() {
  (cd "$ROOT" && AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true timeout 60 node --input-type=module -e "
    import { S3Client, CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
    const s3 = new S3Client({ endpoint: 'http://$HOST:$PORT', region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: '$ACCESS_KEY', secretAccessKey: process.env.KURA_RGW_SECRET },
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    try { await s3.send(new HeadBucketCommand({ Bucket: '$BUCKET' })); }
    catch (err) {
      if (err.\$metadata?.httpStatusCode !== 404) throw err;
      await s3.send(new CreateBucketCommand({ Bucket: '$BUCKET' }));
    }
  ") || return 1
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stops radosgw, then the OSD, then the monitor, by the pids the daemons wrote (run/<name>.pid) or
# this script recorded when it started them (<name>.bgpid).
stop_daemons() {
  local name pidfile pid
  for name in rgw osd mon; do
    for pidfile in "$D/$name.bgpid" "$D"/run/*"$name"*.pid; do
      pid_alive "$pidfile" || continue
      pid=$(cat "$pidfile")
      stop_pid "$name" "$pid"
    done
  done
}

stop_pid() {
  local name=$1 pid=$2
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "$name ($pid) did not stop in 10 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
}

print_env() {
  echo "KURA_TEST_S3_ENDPOINT=http://$HOST:$PORT"
  echo "KURA_TEST_S3_BUCKET=$BUCKET"
  echo "KURA_TEST_S3_ACCESS_KEY_ID=$ACCESS_KEY"
  echo "KURA_TEST_S3_SECRET_ACCESS_KEY=$SECRET_KEY"
}

start() {
  export KURA_RGW_SECRET=$SECRET_KEY
  if answering; then
    ensure_bucket || fail "a server answers on $HOST:$PORT but refuses the test credentials or the bucket; stop it (bash test/services/rgw.sh stop) or free the port"
    print_env
    echo "rgw: reused"
    return
  fi
  for bin in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool ceph uuidgen; do
    command -v "$bin" >/dev/null 2>&1 || fail "$bin is missing; run scripts/prereqs.sh as root (apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd)"
  done
  local t0=$SECONDS
  stop_daemons # leftovers of an earlier run that no longer answers
  rm -rf "$D"
  STARTING=yes
  trap 'fail "interrupted"' INT TERM
  mkdir -p "$D"/{run,log,mon,osd/ceph-0,rgw}
  local fsid
  fsid=$(uuidgen)
  cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon_initial_members = a
mon_host = v1:$HOST:$MON_PORT
public_network = 127.0.0.0/8
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
auth_allow_insecure_global_id_reclaim = true
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
# A nearly full disk must not stop the monitor (it shuts down at mon_data_avail_crit, default 5 %).
mon_data_avail_warn = 1
mon_data_avail_crit = 0
osd_crush_chooseleaf_type = 0
run_dir = $D/run
admin_socket = $D/run/\$name.asok
log_file = $D/log/\$name.log
pid_file = $D/run/\$name.pid
crash_dir = $D/crash
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_msgr2 = false
[mon]
mon_data = $D/mon/\$cluster-\$id
[osd]
osd_data = $D/osd/\$cluster-\$id
osd_objectstore = memstore
# The OSD is placed in the CRUSH map before it starts (below). Left to itself it sends that update
# as soon as it starts, sometimes before it knows the cluster fsid; the monitor then refuses it
# ("wrong fsid") and the OSD exits.
osd_crush_update_on_start = false
osd_class_update_on_start = false
memstore_device_bytes = 4294967296
osd_max_object_name_len = 256
osd_max_object_namespace_len = 64
[client.rgw.a]
rgw_frontends = beast endpoint=$HOST:$PORT
rgw_data = $D/rgw
CONF
  local C=(-c "$CONF")
  monmaptool --create --add a "v1:$HOST:$MON_PORT" --fsid "$fsid" "$D/monmap" >/dev/null
  ceph-authtool --create-keyring "$D/mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-mon --mkfs -i a --monmap "$D/monmap" "${C[@]}" --keyring "$D/mon.a.keyring" >"$D/log/mon-mkfs.log" 2>&1 ||
    fail "ceph-mon --mkfs failed"
  # Daemons run in their own session with no terminal, so the caller's Ctrl-C or exit leaves them
  # to `stop`; each writes its own pid file (run/<name>.pid).
  setsid ceph-mon -f -i a "${C[@]}" </dev/null >"$D/log/mon.stdout" 2>&1 &
  echo $! >"$D/mon.bgpid"
  timeout 30 ceph "${C[@]}" -s >/dev/null 2>"$D/log/ceph-s.log" || fail "the monitor did not answer within 30 s"
  local osd
  osd=$(timeout 30 ceph "${C[@]}" osd create 2>>"$D/log/ceph-s.log") || fail "ceph osd create failed"
  timeout 30 ceph "${C[@]}" osd crush add "osd.$osd" 1.0 root=default >/dev/null 2>>"$D/log/ceph-s.log" ||
    fail "ceph osd crush add failed"
  ceph-osd -i "$osd" --mkfs "${C[@]}" >"$D/log/osd-mkfs.log" 2>&1 || fail "ceph-osd --mkfs failed"
  setsid ceph-osd -f -i "$osd" "${C[@]}" </dev/null >"$D/log/osd.stdout" 2>&1 &
  echo $! >"$D/osd.bgpid"
  local ok=no
  for _ in $(seq 1 60); do
    pid_alive "$D/osd.bgpid" || fail "ceph-osd exited during start"
    if [[ $(timeout 10 ceph "${C[@]}" osd stat 2>>"$D/log/ceph-s.log") == *" 1 up"* ]]; then
      ok=yes
      break
    fi
    sleep 0.5
  done
  [ $ok = yes ] || fail "the OSD did not come up within 60 s"
  setsid radosgw -f -n client.rgw.a "${C[@]}" </dev/null >"$D/log/rgw.stdout" 2>&1 &
  echo $! >"$D/rgw.bgpid"
  ok=no
  for _ in $(seq 1 120); do
    pid_alive "$D/rgw.bgpid" || fail "radosgw exited during start"
    if answering; then
      ok=yes
      break
    fi
    sleep 0.5
  done
  [ $ok = yes ] || fail "radosgw did not answer on $HOST:$PORT within 60 s"
  timeout 60 radosgw-admin "${C[@]}" user create --uid=kura-test --display-name='Kura tests' \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null 2>"$D/log/user-create.log" ||
    fail "radosgw-admin user create failed"
  ensure_bucket 2>"$D/log/bucket-create.log" || fail "creating bucket $BUCKET failed"
  STARTING=no
  log "ready on http://$HOST:$PORT after $((SECONDS - t0)) s (state in $D)"
  print_env
  echo "rgw: started"
}

case "${1:-}" in
  start) start ;;
  stop) stop_daemons ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
