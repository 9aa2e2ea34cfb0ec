// Package ensemble runs a replicated ZooKeeper ensemble of server processes
// on 127.0.0.1 for tests: one directory, zoo.cfg and myid per server on
// free ports, start, stop, kill -9, pause and resume by PID, the Mode each
// reports, and optional routes of the peer links through proxies (for
// partitions). It knows servers only by the command that runs them on a
// zoo.cfg: package apachezk runs Apache ZooKeeper's QuorumPeerMain with it,
// package zkgoproc zkgo's zkserver.
package ensemble
