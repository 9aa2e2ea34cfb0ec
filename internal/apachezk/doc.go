// Package apachezk starts a standalone Apache ZooKeeper 3.8, from the Debian
// jars in /usr/share/java, for tests that compare zkgo with the reference
// server or run a suite against it; it is imported only by _test files.
// Start ties a server to a testing.TB (stopped by PID at cleanup, log tail
// logged on failure), StartMain serves TestMain, and Require applies the
// project's rule for a missing Java or jars: skip, or fail when
// ZKGO_INTEROP_REQUIRED=1. A Server's methods are safe for concurrent use;
// Stop is idempotent.
package apachezk
