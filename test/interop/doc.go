// Package interop judges a ZooKeeper server by driving it with clients written by
// other people (go-zookeeper, kazoo, Apache Curator, zkCli.sh) and by running every
// scenario unchanged against Apache ZooKeeper, the reference. It holds tests only:
// each scenario is written once and run per target (apache, zkgo) selected with the
// ZKGO_TARGETS environment variable; each target is a real server process on a free
// 127.0.0.1 port, started by the test and killed by PID when the test ends. Tests run
// in parallel and share no state beyond a once-per-binary build of cmd/zkserver.
package interop
