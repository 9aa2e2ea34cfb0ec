// Package robustness holds process-level robustness tests of zkgo: the
// malformed-packet cases sent both to Apache ZooKeeper 3.8 and to zkgo's
// zkserver, each started by the test as a process, comparing what each
// answers and whether it keeps the connection; and a flood of unread
// requests that must not grow the zkserver process without bound.
//
// The package has no non-test code. Tests start their own servers on free
// 127.0.0.1 ports, stop them by PID when they end, and skip when Java or the
// Debian ZooKeeper jars are missing unless ZKGO_INTEROP_REQUIRED=1 (CI), in
// which case they fail. Nothing runs in the background beyond the server
// processes and one reaper goroutine per process, which ends with it.
package robustness
