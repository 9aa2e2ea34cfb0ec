// Zkbench is a load generator for ZooKeeper servers, zkgo or Apache
// ZooKeeper, in the style of ClickHouse's keeper-bench and zk-smoketest. It
// speaks the wire protocol directly (package proto): each session is one TCP
// connection with a writer goroutine that keeps -outstanding requests in
// flight and a reader goroutine that matches the replies, which ZooKeeper
// sends in request order, to the requests by xid, recording each latency in a
// per-session log-linear histogram (microsecond resolution, under 1% error).
// There is no goroutine per request; sessions share only read-only plans and
// atomic counters, and their histograms are merged once they have stopped.
//
// Workloads: create (new znodes under a fresh directory), set, get and exists
// (on -keys znodes created first under -root), mixed (90% get, 10% set), and
// multi (a multi of 4 setData on random keys per request).
//
// The recipe workloads run what users run instead, the Go client (package
// client) and the recipes, one session and one goroutine per -sessions:
// lock counts recipes/lock.Mutex acquire+release cycles, all sessions on one
// lock (contended) or each on its own (-uncontended), with the acquire and
// release latencies; leader counts leadership handovers among the sessions
// on one election, a leader giving up at once (-leader-recipe latch: it
// closes its leader.Latch and joins again with a new one; selector: the lead
// function of a leader.Selector with auto-requeue returns), with the time
// from one leader's release to the next one's start. Both check that no two
// sessions ever hold (or lead) at once, and that fencing tokens grow.
// scripts/bench-locks-vs-curator.sh runs them beside the same workloads
// written with Apache Curator (scripts/curatorbench) on one server.
//
// Only replies that arrive after -warmup and within -duration are counted;
// an operation that returns an error code counts as an error of that code,
// not as a success. By default the znodes the run created are deleted
// afterwards, with pipelined deletes. Other modes: -populate N creates N
// znodes and leaves them (to measure memory with a large tree), -purge
// deletes a tree, and -connect-probe measures how long a starting server
// takes to accept its first session.
//
// Comparing zkgo and Apache ZooKeeper on one machine (same settings, run one
// server at a time or on different ports; the machine is the noise, so
// compare ratios from the same session rather than absolute numbers):
//
//	zkserver start-foreground zkgo.cfg        # clientPort=2181, dataDir=/tmp/zkgo
//	java -cp /usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:\
//	/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar \
//	  -Dzookeeper.admin.enableServer=false \
//	  org.apache.zookeeper.server.ZooKeeperServerMain apache.cfg  # clientPort=2182
//
//	for w in create set get exists mixed; do
//	  zkbench -server 127.0.0.1:2181 -workload $w -sessions 8 -outstanding 8 -duration 10s -json
//	  zkbench -server 127.0.0.1:2182 -workload $w -sessions 8 -outstanding 8 -duration 10s -json
//	done
//
//	zkbench -server 127.0.0.1:2181 -populate 1000000   # then read the server's RSS
//	zkbench -server 127.0.0.1:2181 -purge
//
// Start-up time with a big data set: populate, stop the server, then start
// it and at once run zkbench -connect-probe -server 127.0.0.1:2181.
package main
