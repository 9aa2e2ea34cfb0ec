// Command zkserver runs a zkgo server with the verbs of Apache ZooKeeper's
// zkServer.sh: start (in the background), start-foreground, stop, restart,
// status, version and print-cmd. It reads the same zoo.cfg, found like
// zkServer.sh finds it (--config DIR|FILE, an optional config file argument,
// $ZOOCFGDIR and $ZOOCFG, conf/zoo.cfg, else built-in defaults), keeps the
// pid in dataDir/zookeeper_server.pid ($ZOOPIDFILE overrides), writes the
// background server's output to $ZOO_LOG_DIR (default dataDir), and prints
// the messages scripts grep for (STARTED, "FAILED TO START: " and the
// cause, STOPPED, "Mode: standalone"). start reports STARTED only once the
// process it launched says, over a pipe, that it holds the client port.
//
// Exit codes: 0 success, 1 failure (e.g. status finds no server), 2 bad
// configuration or usage. Each invocation is one short-lived process: the
// only goroutines are the server's own and, in start-foreground, the one
// serving clients until SIGTERM/SIGINT (a second signal closes at once).
package main
