#!/usr/bin/env bash
# Compares zkgo with Apache ZooKeeper 3.8 (Debian package `zookeeper`) on this
# machine, one server at a time, with zkbench: throughput and latency per
# workload, RSS after N znodes, and the time from start to the first session
# with that data. Servers bind 127.0.0.1 on free ports; both are stopped by PID
# at exit.
#
#   scripts/bench-vs-apache.sh [duration] [znodes]      # defaults: 10s 1000000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=${1:-10s}
znodes=${2:-1000000}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/" ./cmd/zkserver ./cmd/zkbench
bench="$work/zkbench"
cp=/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar

freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start NAME: starts the server, sets $pid and $port.
start() {
  local name=$1 dir="$work/$1"
  mkdir -p "$dir"
  [ -n "${port:-}" ] || port=$(freeport)
  cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
admin.enableServer=false
CFG
  if [ "$name" = zkgo ]; then
    "$work/zkserver" start-foreground --config "$dir/zoo.cfg" >>"$dir/log" 2>&1 &
  else
    # -Xmx1000m is zkServer.sh's default heap (ZK_SERVER_HEAP).
    java -Xmx1000m -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" >>"$dir/log" 2>&1 &
  fi
  pid=$!
  pids+=("$pid")
}

stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

rss_mb() { echo $(( $(awk '/VmRSS/ {print $2}' /proc/"$pid"/status) / 1024 )); }

for name in zkgo apache; do
  port=""
  start "$name"
  "$bench" -server "127.0.0.1:$port" -connect-probe >/dev/null
  for w in create set get exists mixed; do
    "$bench" -server "127.0.0.1:$port" -workload "$w" -duration "$duration" -sessions 8 -outstanding 8 -value-size 100 -json |
      python3 -c "import json,sys;d=json.load(sys.stdin)['total'];print('$name $w ops/s=%d p50=%.2fms p99=%.2fms' % (d['ops_per_sec'], d['latency_us']['p50']/1000, d['latency_us']['p99']/1000))"
  done
  "$bench" -server "127.0.0.1:$port" -populate "$znodes" -value-size 100 | sed "s/^/$name /"
  echo "$name rss_after_${znodes}_znodes=$(rss_mb)MB"
  sleep 15
  echo "$name rss_after_${znodes}_znodes_idle_15s=$(rss_mb)MB"
  stop
  start "$name"
  "$bench" -server "127.0.0.1:$port" -connect-probe | sed "s/^/$name restart with data: /"
  sleep 2
  echo "$name rss_after_restart=$(rss_mb)MB"
  stop
done
