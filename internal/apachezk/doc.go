// Package apachezk starts Apache ZooKeeper 3.8, from the Debian jars in
// /usr/share/java, for tests that compare zkgo with the reference server or
// run a suite or a fault test against it; it is imported only by _test
// files.
//
// A standalone server: Start ties one to a testing.TB (stopped by PID at
// cleanup, log tail logged on failure) and StartMain serves TestMain.
//
// A replicated ensemble: StartEnsemble writes n servers' zoo.cfg and myid
// (voters, then observers) on free ports, starts them as QuorumPeerMain
// and waits until each reports its Mode. An Ensemble kills (-9), stops,
// pauses (SIGSTOP), resumes and restarts one server by PID, and its
// EnsembleOptions.Route puts a proxy of the test's (see internal/netproxy)
// on every peer link, so that a test can cut a minority off.
//
// Require applies the project's rule for a missing Java or jars: skip, or
// fail when ZKGO_INTEROP_REQUIRED=1. Server and Ensemble methods are safe
// for concurrent use; Stop is idempotent.
package apachezk
