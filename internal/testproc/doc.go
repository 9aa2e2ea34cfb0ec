// Package testproc runs a ZooKeeper-compatible server (Apache ZooKeeper or
// zkgo's zkserver) as a child process for tests: it owns the process (reaped
// by one goroutine, stopped by PID, killed with the test binary on Linux),
// its combined log, and the readiness check shared by every server kind:
// srvr reports standalone mode and a session can be opened and closed.
// Packages apachezk and zkgoproc build their servers on it; it is imported
// only by test code. A Process's methods are safe for concurrent use; Stop
// and Kill are idempotent.
package testproc
