#!/usr/bin/env bash
# Compares a 3-server zkgo ensemble with a 3-server Apache ZooKeeper 3.8
# ensemble (Debian package `zookeeper`) on this machine, workload by
# workload, with zkbench: throughput and latency per workload with sessions
# spread over the three servers, and the time from kill -9 of the leader to
# the first write acknowledged by the new leader. Servers bind 127.0.0.1 on
# free ports; all are stopped by PID at exit.
#
#   scripts/bench-ensemble-vs-apache.sh [duration]      # default: 10s
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=${1:-10s}
# shellcheck source=scripts/ensemble-lib.sh
. scripts/ensemble-lib.sh

# Both ensembles run side by side and the workloads alternate between them,
# so that a burst of load from elsewhere on the machine hits both alike.
declare -A ens_addrs ens_leader ens_pids
for name in zkgo apache; do
  start_ensemble "$name"
  wait_serving
  ens_addrs[$name]=$addrs
  ens_leader[$name]=$leader
  ens_pids[$name]="${spids[*]:1}"
done
for w in create set multi get exists mixed; do
  for name in zkgo apache; do
    "$bench" -server "${ens_addrs[$name]}" -workload "$w" -duration "$duration" -sessions 12 -outstanding 8 -value-size 100 -json |
      python3 -c "import json,sys;d=json.load(sys.stdin)['total'];print('$name 3-node $w ops/s=%d p50=%.2fms p99=%.2fms' % (d['ops_per_sec'], d['latency_us']['p50']/1000, d['latency_us']['p99']/1000))"
  done
done
for name in zkgo apache; do
  addrs=${ens_addrs[$name]}
  leader=${ens_leader[$name]}
  read -r -a spids <<<"${ens_pids[$name]}"
  spids=("" "${spids[@]}") # indexed 1..3 like the servers
  # Failover: kill -9 the leader, then time until a write through the
  # other servers is acknowledged (kazoo, which retries across the hosts).
  others=""
  i=0
  for a in ${addrs//,/ }; do
    i=$((i + 1))
    [ "$i" = "$leader" ] || others="${others:+$others,}$a"
  done
  /usr/bin/python3 - "$others" "${spids[$leader]}" "$name" <<'PY'
import os, signal, sys, time
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry
hosts, pid, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
zk = KazooClient(hosts=hosts, timeout=10, connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.2))
zk.start()
zk.ensure_path("/failover")
os.kill(pid, signal.SIGKILL)
t0 = time.monotonic()
i = 0
while True:
    i += 1
    try:
        zk.create("/failover/w-%d" % i)
        break
    except Exception:
        time.sleep(0.01)
print("%s 3-node kill -9 of the leader to first acknowledged write: %.2fs" % (name, time.monotonic() - t0))
zk.stop()
PY
  for p in "${spids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
done
