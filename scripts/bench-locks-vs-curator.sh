#!/usr/bin/env bash
# Compares the Go lock and leader recipes (zkbench -workload lock|leader)
# with Apache Curator 5's InterProcessMutex, LeaderLatch and LeaderSelector
# (scripts/curatorbench/LockBench.java, compiled here with javac against the
# Debian jars) on the same server, with the same parameters: mutex
# acquire+release cycles/s (contended: all sessions on one lock; uncontended:
# one lock per session) and leadership handovers/s. Each case runs RUNS
# times, Go and Curator alternating; the table shows medians and the ratio.
#
# The server is a zkgo standalone (built from this tree); with APACHE=1 the
# same cases run against Apache ZooKeeper 3.8 as well. Servers bind
# 127.0.0.1 on free ports, keep their data in a temporary directory and are
# stopped by PID at exit.
#
#   scripts/bench-locks-vs-curator.sh [duration] [runs]     # defaults: 5s 3
#   SESSIONS="1 8" WARMUP=2s APACHE=1 scripts/bench-locks-vs-curator.sh
#
# Needs: go, python3, java and javac (openjdk-17-jdk-headless), and the
# Debian packages zookeeper, libcurator-{client,framework,recipes}-java.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=${1:-5s}
runs=${2:-3}
sessions=${SESSIONS:-1 8}
warmup=${WARMUP:-2s}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

J=/usr/share/java
for jar in curator-client curator-framework curator-recipes zookeeper zookeeper-jute slf4j-api slf4j-nop; do
  [ -f "$J/$jar.jar" ] || { echo "missing $J/$jar.jar (apt-get install zookeeper libcurator-recipes-java libslf4j-java)" >&2; exit 1; }
done
zkcp=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-simple.jar
cp=$J/curator-client.jar:$J/curator-framework.jar:$J/curator-recipes.jar:$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar

go build -o "$work/" ./cmd/zkserver ./cmd/zkbench
mkdir -p "$work/classes"
javac -nowarn -d "$work/classes" -cp "$cp" scripts/curatorbench/LockBench.java

freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start NAME: starts the server, sets $pid and $port, waits for a session.
start() {
  local name=$1 dir="$work/$1"
  mkdir -p "$dir"
  port=$(freeport)
  cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
CFG
  if [ "$name" = zkgo ]; then
    "$work/zkserver" start-foreground --config "$dir/zoo.cfg" >>"$dir/log" 2>&1 &
  else
    java -Xmx1000m -cp "$zkcp" org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" >>"$dir/log" 2>&1 &
  fi
  pid=$!
  pids+=("$pid")
  "$work/zkbench" -server "127.0.0.1:$port" -connect-probe -timeout 60s >/dev/null
}

stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

# cases: "workload variant-flags sessions" lines.
cases=()
for s in $sessions; do
  [ "$s" -gt 1 ] && cases+=("lock|-workload lock|$s")
  cases+=("lock-uncontended|-workload lock -uncontended|$s")
done
for s in $sessions; do
  [ "$s" -gt 1 ] || continue
  cases+=("leader-latch|-workload leader -leader-recipe latch|$s")
  cases+=("leader-selector|-workload leader -leader-recipe selector|$s")
done

results="$work/results.jsonl"
servers=(zkgo)
[ "${APACHE:-0}" = 1 ] && servers+=(apache)
for server in "${servers[@]}"; do
  start "$server"
  # Warm the server up (a JVM's JIT above all) before anything counts.
  for w in "lock" "lock -uncontended" "leader"; do
    "$work/zkbench" -server "127.0.0.1:$port" -workload $w -sessions 4 -duration 3s -warmup 0s -root /bench-warmup >/dev/null
  done
  for c in "${cases[@]}"; do
    IFS='|' read -r name flags n <<<"$c"
    for r in $(seq "$runs"); do
      common=(-server "127.0.0.1:$port" $flags -sessions "$n" -duration "$duration" -warmup "$warmup")
      "$work/zkbench" "${common[@]}" -root /bench-go -json |
        python3 -c "import json,sys;d=json.load(sys.stdin);d.update(server='$server',case='$name',client='go',run=$r);print(json.dumps(d))" >>"$results"
      java -Xmx512m -cp "$work/classes:$cp" LockBench "${common[@]}" -root /bench-curator |
        python3 -c "import json,sys;d=json.load(sys.stdin);d.update(server='$server',case='$name',client='curator',run=$r);print(json.dumps(d))" >>"$results"
    done
  done
  stop
done

python3 - "$results" "$duration" "$runs" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"duration {sys.argv[2]} per run, {sys.argv[3]} runs per client, medians (all runs in brackets)")
print("lock: acquire+release cycles/s, p50 acquire latency; leader: handovers/s, p50 handover latency\n")
hdr = f"{'server':7} {'case':17} {'sess':>4} {'go /s':>8} {'curator /s':>10} {'go/cur':>6}  {'go p50 ms':>9} {'cur p50 ms':>10}  runs go | curator"
print(hdr)
print("-" * len(hdr))
keys = []
for r in rows:
    k = (r["server"], r["case"], r["sessions"])
    if k not in keys:
        keys.append(k)
bad = 0
for k in keys:
    g = [r for r in rows if (r["server"], r["case"], r["sessions"]) == k and r["client"] == "go"]
    c = [r for r in rows if (r["server"], r["case"], r["sessions"]) == k and r["client"] == "curator"]
    for r in g + c:
        bad += r["errors"] + r["overlaps"]
    gm = statistics.median(r["ops_per_sec"] for r in g)
    cm = statistics.median(r["ops_per_sec"] for r in c)
    gl = statistics.median(r["latency_us"]["p50"] for r in g) / 1000
    cl = statistics.median(r["latency_us"]["p50"] for r in c) / 1000
    runs = " ".join(f"{r['ops_per_sec']:.0f}" for r in g) + " | " + " ".join(f"{r['ops_per_sec']:.0f}" for r in c)
    print(f"{k[0]:7} {k[1]:17} {k[2]:4} {gm:8.0f} {cm:10.0f} {gm / cm if cm else float('inf'):6.2f}  {gl:9.3f} {cl:10.3f}  {runs}")
if bad:
    print(f"\nWARNING: {bad} errors or overlaps; see the JSON lines")
    for r in rows:
        if r["errors"] or r["overlaps"]:
            print(json.dumps(r))
    sys.exit(1)
PY
