// Package differential holds the differential test of zkgo against Apache
// ZooKeeper: one seeded random sequence of client operations is sent, over
// several sessions, to two servers started by the test (A = Apache ZooKeeper
// 3.8, B = zkgo, or a second Apache server when ZKGO_DIFF_B=apache), and every
// reply, multi result, Stat relation and watch event must match after
// normalising what legitimately differs (session ids, zxid values, times).
// The generator steers clear of the few Apache 3.8.0 bugs that 3.9 fixed and
// zkgo does not reproduce (see watchmodel_test.go and the comments in
// gen_test.go).
//
// The package has no non-test code. The test speaks the wire protocol through
// a minimal synchronous client of its own so that it controls every byte sent
// and sees every raw reply and notification. Operations are issued one at a
// time and both servers are driven concurrently, each by its own goroutine per
// operation, which the test's main goroutine waits for; nothing else runs in
// the background.
package differential
