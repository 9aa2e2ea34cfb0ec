// Package interop judges a ZooKeeper server by driving it with clients written by
// other people (go-zookeeper, kazoo, Apache Curator, zkCli.sh) and by running every
// scenario unchanged against Apache ZooKeeper, the reference. It holds tests only:
// each scenario is written once and run per target selected with the ZKGO_TARGETS
// environment variable: "apache" and "zkgo" (a standalone server) and
// "apache-ensemble" and "zkgo-ensemble" (three voters, which clients reach with a
// connect string of all three). Every server is a real process on free 127.0.0.1
// ports, started by the test and killed by PID when the test ends; the cluster
// tests kill and restart members of an ensemble. Tests run in parallel and share
// no state beyond a once-per-binary build of cmd/zkserver.
package interop
