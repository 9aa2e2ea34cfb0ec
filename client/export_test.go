package client

import "testing"

// ServerForTest returns the address of the suite's server for the external
// tests and examples, skipping tb if there is none. It exists only in tests.
func ServerForTest(tb testing.TB) string {
	tb.Helper()
	return needServer(tb)
}

// ServerAddrForExamples returns the suite's server address for examples (which run
// only when there is one).
func ServerAddrForExamples() string { return testServer }
