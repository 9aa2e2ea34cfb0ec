// Package netproxy is a cuttable TCP proxy for fault tests: a Proxy listens
// on a free 127.0.0.1 port and forwards every connection to one target
// address. Cut drops the connections it carries and refuses new ones (they
// are accepted and reset at once) until Heal, which is how a test cuts a
// link between two servers it started without touching anything outside
// 127.0.0.0/8. ListenRewrite also rewrites the first bytes of each stream,
// for a protocol whose first message announces an address to dial back
// (Apache ZooKeeper's election handshake does). A Proxy's methods are safe
// for concurrent use; Close stops it for good and waits for its goroutines.
package netproxy
