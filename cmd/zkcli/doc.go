// Command zkcli is zkgo's ZooKeeper shell, a drop-in for Apache ZooKeeper's
// zkCli.sh: "zkcli -server host:port[,host:port][/chroot] [-timeout ms]
// [-r] [cmd args...]" runs one command, or reads commands (with line
// editing, persistent history in ~/.zkcli_history and tab completion of
// commands and znode paths on a terminal; plain lines otherwise). Every
// zkCli.sh 3.8 command is there, with its options, and prints what zkCli.sh
// prints, byte for byte, so that scripts parsing its output keep working;
// zkcli adds "tree [path]", "help" and "-o json" on read commands. Server
// calls go through the session interface, implemented over package client.
// Concurrency: the shell runs on one goroutine, which executes commands and
// prints watch events; a second goroutine reads input lines when the shell
// asks for one, so that events print while the user types.
package main
