// Package ensemble holds the tests that run zkgo ensembles of real
// zkserver processes through what the ZooKeeper tutorials do with a
// cluster: start the servers, stop followers until the majority is lost,
// bring them back, stop the leader, bring it back; and kill -9 every server
// in the middle of a stream of writes. Every acknowledged write must be on
// every server at the end.
package ensemble
