// Package jepsen is a fault test in the Jepsen style for a replicated
// ensemble: several clients spread over every server write, compare-and-set
// (setData with a version) and read after sync on the same session, on a
// few keys at a time, while a nemesis kills a minority of the servers with
// SIGKILL, pauses it with SIGSTOP or cuts its peer links, then restarts,
// resumes or heals it. The history is checked for linearizability with
// porcupine (operations whose outcome is unknown may have taken effect or
// not); the ephemerals of live sessions must survive every leader change,
// those of an expired session must be gone from every server, and a run
// that saw no acknowledged write fails.
//
// # Backends
//
// The ensemble under test is a Cluster, chosen with -jepsen.backend or
// ZKGO_JEPSEN_BACKEND: "apache", the default, runs Apache ZooKeeper 3.8's
// QuorumPeerMain (internal/apachezk; the test is skipped, naming the Debian
// package zookeeper, when it is missing, unless ZKGO_INTEROP_REQUIRED=1).
//
// To test zkgo's ensemble, add a backend beside cluster_apache_test.go:
// write each server's zoo.cfg with server.N lines whose peer addresses,
// for every other server, come from peerLinks.route (a cuttable proxy per
// ordered pair of servers and peer port), start zkserver processes on
// them (internal/zkgoproc), implement Cluster (Kill, Start, Pause and
// Resume by PID, Cut and Heal from the embedded peerLinks, Mode from srvr)
// and add the constructor to backends. TestPartition then shows that the
// proxies isolate a server of that backend, and TestFaults runs on it.
// Apache needs one more step that zkgo should not: a server dials back the
// election address a lower-numbered peer announces in its handshake, so
// the Apache backend rewrites that address to a proxy's (announceVia).
//
// # Running
//
// CI runs a short history with a fixed seed. Longer runs, other seeds and
// other shapes:
//
//	go test ./test/jepsen -run TestFaults -v -timeout 30m \
//		-jepsen.duration=10m -jepsen.seed=7 -jepsen.nodes=5 -jepsen.clients=10
//
// When a history is not shown linearizable, the path of porcupine's HTML
// visualization (a temporary directory that outlives the test) is logged.
package jepsen
