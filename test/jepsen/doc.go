// Package jepsen is a fault test in the Jepsen style for a replicated
// ensemble: several clients spread over every server write, compare-and-set
// (setData with a version) and read after sync on a few keys, while a
// nemesis kills servers with SIGKILL, pauses them with SIGSTOP, cuts a
// minority's peer links and then restarts, resumes and heals. The history
// is checked for linearizability with porcupine; ephemerals of live
// sessions must survive every leader change and those of expired sessions
// must be gone from every server.
//
// # Backends
//
// The ensemble under test is a Cluster. The backend is chosen with
// -jepsen.backend or ZKGO_JEPSEN_BACKEND: "apache" (the default) runs
// Apache ZooKeeper 3.8's QuorumPeerMain from the Debian package zookeeper
// (skipped with a message when it is missing, unless
// ZKGO_INTEROP_REQUIRED=1). To test zkgo's ensemble, write a backend beside
// cluster_apache_test.go: start zkserver processes (internal/zkgoproc) on
// zoo.cfg files whose server.N lines take their peer addresses from
// peerLinks.route, so that every peer link runs through a cuttable proxy,
// implement Cluster, and add the constructor to backends.
//
// # Running
//
// CI runs a short history with a fixed seed. Longer runs and other seeds:
//
//	go test ./test/jepsen -run TestFaults -jepsen.duration=5m -jepsen.seed=7 -v
//
// When a history is not linearizable, the path of porcupine's HTML
// visualization is logged.
package jepsen
