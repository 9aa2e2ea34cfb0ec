#!/usr/bin/env bash
# Follower catch-up: a 3-server zkgo ensemble, then a 3-server Apache
# ZooKeeper 3.8 ensemble (Debian package `zookeeper`), each holding N znodes
# (zkbench -populate); a follower is killed (-9), M writes are made without
# it, and it is started again. Reported: the time from its start until a
# client connected to it alone reads the marker node written after the M
# writes, i.e. until it serves the state it missed. Servers bind 127.0.0.1 on
# free ports; all are stopped by PID at exit.
#
#   scripts/bench-catchup-vs-apache.sh [N] [M]      # default: 1000000 100000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

znodes=${1:-1000000}
missed=${2:-100000}
# shellcheck source=scripts/ensemble-lib.sh
. scripts/ensemble-lib.sh

for name in zkgo apache; do
  start_ensemble "$name"
  wait_serving
  t=$SECONDS
  "$bench" -server "$addrs" -populate "$znodes" -root /base -sessions 12 -outstanding 16 -value-size 100 >/dev/null
  echo "$name: $znodes znodes created in $((SECONDS - t))s"
  follower=1
  [ "$leader" != 1 ] || follower=2
  others=""
  for i in 1 2 3; do [ "$i" = "$follower" ] || others="${others:+$others,}${caddrs[$i]}"; done
  kill -9 "${spids[$follower]}"
  wait "${spids[$follower]}" 2>/dev/null || true
  t=$SECONDS
  "$bench" -server "$others" -populate "$missed" -root /missed -sessions 12 -outstanding 16 -value-size 100 >/dev/null
  /usr/bin/python3 - "$others" <<'PY'
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=10)
zk.start()
zk.create("/marker", b"after the missed writes")
zk.stop()
PY
  echo "$name: $missed writes made without server $follower in $((SECONDS - t))s"
  start_server "$name" "$follower"
  /usr/bin/python3 - "${caddrs[$follower]}" "$name" <<'PY'
import sys, time, logging
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry
logging.disable(logging.CRITICAL)
addr, name = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
zk = KazooClient(hosts=addr, timeout=10, connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.1))
zk.start(timeout=600)
while zk.exists("/marker") is None:
    time.sleep(0.01)
print("%s 3-node: follower restarted after missing writes serves them after %.2fs" % (name, time.monotonic() - t0))
zk.stop()
PY
  for p in "${spids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
done
