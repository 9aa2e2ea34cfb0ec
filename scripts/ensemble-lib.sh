# Shared by the ensemble benchmark scripts (sourced, not run, from the
# repository root): it makes a temporary directory $work, builds zkserver
# and zkbench ($bench) into it, and removes it at exit after killing every
# server in pids; its functions start a 3-server zkgo or Apache ZooKeeper
# 3.8 ensemble on 127.0.0.1 free ports under $work and wait for it to serve.

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/" ./cmd/zkserver ./cmd/zkbench
bench="$work/zkbench"
cp=/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar

freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# word ADDR WORD: a four-letter word's answer ("" if none).
word() {
  python3 - "$1" "$2" <<'PY' 2>/dev/null || true
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=2)
s.sendall(sys.argv[2].encode())
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
print(out.decode())
PY
}

# start_ensemble NAME: writes three zoo.cfg files (same tickTime, limits
# and fsync as each other) and starts the servers; sets addrs (comma-separated), caddrs (indexed
# 1..3) and spids.
start_ensemble() {
  local name=$1 i
  local -a cports qports eports
  for i in 1 2 3; do cports[$i]=$(freeport); qports[$i]=$(freeport); eports[$i]=$(freeport); done
  addrs=""
  spids=()
  for i in 1 2 3; do
    local dir="$work/$name/$i"
    mkdir -p "$dir/data"
    echo "$i" >"$dir/data/myid"
    {
      echo "tickTime=2000"
      echo "initLimit=10"
      echo "syncLimit=5"
      echo "dataDir=$dir/data"
      echo "clientPort=${cports[$i]}"
      echo "clientPortAddress=127.0.0.1"
      echo "maxClientCnxns=0"
      echo "4lw.commands.whitelist=*"
      echo "admin.enableServer=false"
      for j in 1 2 3; do echo "server.$j=127.0.0.1:${qports[$j]}:${eports[$j]}"; done
    } >"$dir/zoo.cfg"
    start_server "$name" "$i"
    addrs="${addrs:+$addrs,}127.0.0.1:${cports[$i]}"
  done
  caddrs=("" ${addrs//,/ })
}

# start_server NAME I: starts server I of ensemble NAME on its existing
# configuration and data; sets spids[I].
start_server() {
  local name=$1 i=$2 dir="$work/$1/$2"
  if [ "$name" = zkgo ]; then
    "$work/zkserver" start-foreground --config "$dir/zoo.cfg" >>"$dir/log" 2>&1 &
  else
    java -Xmx2000m -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" >>"$dir/log" 2>&1 &
  fi
  spids[$i]=$!
  pids+=("$!")
}

# wait_serving: until the three servers serve with one leader; sets leader.
wait_serving() {
  local deadline=$((SECONDS + 120)) a i modes
  while :; do
    leader=""
    modes=0
    i=0
    for a in ${addrs//,/ }; do
      i=$((i + 1))
      case "$(word "$a" srvr)" in
        *"Mode: leader"*) leader=$i; modes=$((modes + 1)) ;;
        *"Mode: follower"*) modes=$((modes + 1)) ;;
      esac
    done
    [ "$modes" = 3 ] && [ -n "$leader" ] && return 0
    [ $SECONDS -lt $deadline ] || { echo "ensemble not serving" >&2; exit 1; }
    sleep 0.2
  done
}

