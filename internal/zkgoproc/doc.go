// Package zkgoproc starts zkgo's own server, cmd/zkserver, as a real process
// for tests that need it end to end (differential, robustness, crash,
// interop); it is imported only by _test files. Build compiles the binary
// once per test binary, Start writes a zoo.cfg on a free 127.0.0.1 port,
// runs `zkserver start-foreground` and returns once srvr reports standalone
// mode and a session can be opened; tb's cleanup stops the process by PID
// and logs its log tail if tb failed. A Server's methods are safe for
// concurrent use; Stop and Kill are idempotent. Build's cache is the one
// piece of per-process state: RemoveBuild, called from a TestMain, deletes it.
package zkgoproc
