package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/proto"
)

// command is one shell command. run is nil for the commands processZKCmd
// handles itself (quit, redo, history, printwatches, connect, help).
type command struct {
	name    string
	options string // zkCli's option string, shown in the usage
	// extension marks zkcli's own commands, left out of zkCli's usage text so
	// that its output stays the same.
	extension bool
	// deprecated is zkCli's warning for the old "cmd path arg" form, which
	// it still accepts; watchArg says the old third word meant -w.
	deprecated string
	watchArg   bool
	help       string // what -? prints (ls only)
	// minArgs and maxArgs bound the number of arguments, the command's name
	// included (0: no bound); parseCmd fails with the usage outside them.
	minArgs, maxArgs int
	run              func(sh *shell, ctx context.Context, c *command, words []string) error
}

// usageLine is the command's usage, CliCommand.getUsageStr.
func (c *command) usageLine() string { return c.name + " " + c.options }

// usageErr is the error of a command given the wrong arguments.
func (c *command) usageErr() error { return fail(c.usageLine()) }

// commands lists every command. Built by a function, not kept in a
// package variable, so that nothing is shared mutable state.
func commands() []*command {
	return []*command{
		{name: "connect", options: "host:port"},
		{name: "history", options: ""},
		{name: "redo", options: "cmdno"},
		{name: "printwatches", options: "on|off"},
		{name: "quit", options: ""},
		{name: "close", options: "", run: runClose},
		{name: "create", minArgs: 2, options: "[-s] [-e] [-c] [-t ttl] path [data] [acl]", run: runCreate},
		{name: "delete", minArgs: 2, options: "[-v version] path", run: runDelete,
			deprecated: "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead."},
		{name: "deleteall", minArgs: 2, options: "path [-b batch size]", run: runDeleteAll},
		{name: "set", minArgs: 3, options: "[-s] [-v version] path data", run: runSet},
		{name: "get", minArgs: 2, options: "[-s] [-w] path", run: runGet,
			deprecated: "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead.", watchArg: true},
		{name: "ls", minArgs: 2, options: "[-s] [-w] [-R] path", run: runLs, help: lsHelp,
			deprecated: "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.", watchArg: true},
		{name: "getAcl", minArgs: 2, options: "[-s] path", run: runGetACL},
		{name: "setAcl", minArgs: 3, options: "[-s] [-v version] [-R] path acl", run: runSetACL},
		{name: "stat", minArgs: 2, options: "[-w] path", run: runStat,
			deprecated: "'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.", watchArg: true},
		{name: "sync", minArgs: 2, options: "path", run: runSync},
		{name: "setquota", minArgs: 2, options: "-n|-b|-N|-B val path", run: runSetQuota},
		{name: "listquota", minArgs: 2, options: "path", run: runListQuota},
		{name: "delquota", minArgs: 2, options: "[-n|-b|-N|-B] path", run: runDelQuota},
		{name: "addauth", minArgs: 2, options: "scheme auth", run: runAddAuth},
		{name: "reconfig", options: "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | " +
			"[-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]", run: runReconfig},
		{name: "config", options: "[-c] [-w] [-s]", run: runConfig},
		{name: "removewatches", minArgs: 2, options: "path [-c|-d|-a] [-l]", run: runRemoveWatches},
		{name: "getEphemerals", options: "path", run: runGetEphemerals},
		{name: "getAllChildrenNumber", minArgs: 2, options: "path", run: runGetAllChildrenNumber},
		{name: "version", maxArgs: 1, options: "", run: runVersion},
		{name: "addWatch", options: "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - " +
			"default is PERSISTENT_RECURSIVE", run: runAddWatch, minArgs: 2, maxArgs: 2},
		{name: "whoami", options: "", run: runWhoAmI},
		{name: "help", options: "", extension: true},
		{name: "tree", maxArgs: 2, options: "[path]", extension: true, run: runTree},
	}
}

func lookupCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// sortedCommands returns the commands in Java String order, as zkCli's
// usage lists them.
func sortedCommands() []*command {
	cs := commands()
	slices.SortFunc(cs, func(a, b *command) int { return javaCompare(a.name, b.name) })
	return cs
}

// commandNames returns the names of every command, for completion.
func commandNames() []string {
	var names []string
	for _, c := range sortedCommands() {
		names = append(names, c.name)
	}
	return names
}

// optJSON is zkcli's "-o json" option of read commands.
func optJSON() opt { return opt{name: "o", hasArg: true, desc: "output format (json)"} }

// parse parses words with set. A rejected option gives Commons CLI's
// message, as zkCli prints it, followed by the command's usage line.
func (c *command) parse(set *optSet, words []string) (*parsedArgs, error) {
	p, err := parseArgs(set, words)
	if err != nil {
		return nil, fail(err.Error() + "\n" + c.usageLine())
	}
	return p, nil
}

// wantJSON checks the -o option: "json" or absent.
func (c *command) wantJSON(p *parsedArgs) (bool, error) {
	if !p.has("o") {
		return false, nil
	}
	switch p.value("o") {
	case "json":
		return true, nil
	case "text":
		return false, nil
	}
	return false, fail("unknown output format " + strconv.Quote(p.value("o")) + " (want json)\n" + c.usageLine())
}

// serverErr turns an operation's error into zkCli's message for path.
func serverErr(err error, path string) error {
	var code proto.Code
	if errors.As(err, &code) {
		return fail(wrapperMessage(code, path))
	}
	return fail(err.Error())
}

// keeperErrMessage is serverErr's message with KeeperException.getMessage's wording, used
// where zkCli prints the exception itself.
func keeperErrMessage(err error, path string) string {
	var code proto.Code
	if errors.As(err, &code) {
		return keeperMessage(code, path)
	}
	return err.Error()
}

// parseCmd parses words with set and zkCli's checks, in zkCli's order: the
// options (see parse), -? (ls prints its help), the number of arguments, and
// the deprecated "cmd path arg" form, for which zkCli warns and parses the
// line again, the third word rewritten to -w if it meant the watch flag.
// (zkCli's ls counts its arguments after that form, with the same outcome:
// the form needs three and leaves at least two.)
func (c *command) parseCmd(sh *shell, set *optSet, words []string) (*parsedArgs, error) {
	p, err := c.parse(set, words)
	if err != nil {
		return nil, err
	}
	if c.help != "" && p.has("?") {
		fmt.Fprint(sh.out, c.help)
	}
	if len(p.args) < c.minArgs || c.maxArgs > 0 && len(p.args) > c.maxArgs {
		return nil, c.usageErr()
	}
	if c.deprecated == "" || len(p.args) <= 2 {
		return p, nil
	}
	if c.watchArg {
		words[2] = "-w"
	}
	fmt.Fprintln(sh.errOut, c.deprecated)
	return c.parse(set, words)
}

// nodeArgs is a parsed command on the node its first argument names.
type nodeArgs struct {
	*parsedArgs
	path    string
	asJSON  bool  // -o json
	version int32 // -v, -1 without it
}

// parseNode is parseCmd (for a command with minArgs 2 or more) followed by
// the checks of -o and -v, for the commands that have them.
func (c *command) parseNode(sh *shell, set *optSet, words []string) (*nodeArgs, error) {
	p, err := c.parseCmd(sh, set, words)
	if err != nil {
		return nil, err
	}
	asJSON, err := c.wantJSON(p)
	if err != nil {
		return nil, err
	}
	version, err := c.parseVersion(p)
	if err != nil {
		return nil, err
	}
	return &nodeArgs{parsedArgs: p, path: p.args[1], asJSON: asJSON, version: version}, nil
}

// connNode checks path as the Java client does before sending anything,
// then returns the session (see conn), with errors worded as zkCli's for
// path.
func (sh *shell) connNode(ctx context.Context, path string) (session, error) {
	if err := validatePath(path, false); err != nil {
		return nil, fail(err.Error())
	}
	s, err := sh.conn(ctx)
	if err != nil {
		return nil, serverErr(err, path)
	}
	return s, nil
}

// openNode is parseNode then connNode: how most node commands start.
func (c *command) openNode(ctx context.Context, sh *shell, set *optSet, words []string) (*nodeArgs, session, error) {
	n, err := c.parseNode(sh, set, words)
	if err != nil {
		return nil, nil, err
	}
	s, err := sh.connNode(ctx, n.path)
	if err != nil {
		return nil, nil, err
	}
	return n, s, nil
}

// printStatIf prints st if the command was given -s.
func (sh *shell) printStatIf(p *parsedArgs, st *client.Stat) {
	if p.has("s") {
		printStat(sh.out, st, sh.loc)
	}
}

// nodeText is node data as zkCli prints it: "null" for null data.
func nodeText(data []byte) string {
	if data == nil {
		return "null"
	}
	return javaString(data)
}

func runClose(sh *shell, ctx context.Context, c *command, words []string) error {
	sh.closeSession(true)
	sh.closed = true
	return nil
}

func runCreate(sh *shell, ctx context.Context, c *command, words []string) error {
	set := &optSet{opts: []opt{{name: "e", desc: "ephemeral"}, {name: "s", desc: "sequential"},
		{name: "c", desc: "container"}, {name: "t", hasArg: true, desc: "ttl"}}}
	p, err := c.parseCmd(sh, set, words)
	if err != nil {
		return err
	}
	hasE, hasS, hasC, hasT := p.has("e"), p.has("s"), p.has("c"), p.has("t")
	if hasC && (hasE || hasS) {
		return fail("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
	}
	var ttl int64
	if hasT {
		if ttl, err = strconv.ParseInt(p.value("t"), 10, 64); err != nil {
			return fail("-t argument must be a long value")
		}
	}
	if hasT && hasE {
		return fail("TTLs cannot be used with Ephemeral znodes")
	}
	if hasT && hasC {
		return fail("TTLs cannot be used with Container znodes")
	}
	var mode client.CreateMode
	switch {
	case hasE && hasS:
		mode = client.EphemeralSequential
	case hasE:
		mode = client.Ephemeral
	case hasS && hasT:
		mode = client.PersistentSequentialTTL
	case hasS:
		mode = client.PersistentSequential
	case hasC:
		mode = client.Container
	case hasT:
		mode = client.PersistentTTL
	default:
		mode = client.Persistent
	}
	if hasT && (ttl <= 0 || ttl > maxTTL) {
		return fail(fmt.Sprintf("ttl must be positive and cannot be larger than: %d", int64(maxTTL)))
	}
	path := p.args[1]
	var data []byte
	if len(p.args) > 2 {
		data = []byte(p.args[2])
	}
	acl := client.OpenACL()
	if len(p.args) > 3 {
		acl = parseACL(sh, p.args[3])
	}
	if err := validatePath(path, mode.IsSequential()); err != nil {
		return fail(err.Error())
	}
	if len(acl) == 0 {
		// The Java client rejects an empty ACL before sending.
		fmt.Fprintln(sh.errOut, keeperMessage(proto.ErrInvalidACL, ""))
		return fail(wrapperMessage(proto.ErrInvalidACL, ""))
	}
	s, err := sh.conn(ctx)
	if err != nil {
		return serverErr(err, path)
	}
	created, err := s.Create(ctx, path, data, mode, time.Duration(ttl)*time.Millisecond, acl)
	if err != nil {
		switch {
		case errors.Is(err, client.ErrEphemeralOnLocalSession):
			fmt.Fprintln(sh.errOut, "Unable to create ephemeral node on a local session")
		case errors.Is(err, client.ErrInvalidACL):
			fmt.Fprintln(sh.errOut, keeperMessage(proto.ErrInvalidACL, path))
		}
		return serverErr(err, path)
	}
	fmt.Fprintln(sh.errOut, "Created "+created)
	return nil
}

// maxTTL is the largest TTL Apache ZooKeeper accepts (EphemeralType.MAX_TTL).
const maxTTL = 0xFFFFFFFFFF

// parseACL parses "scheme:id:perms[,...]" as zkCli's AclParser, printing
// complaints about malformed entries and skipping them.
func parseACL(sh *shell, s string) []client.ACL {
	acl := []client.ACL{}
	for _, a := range javaSplit(s, ",") {
		first, last := strings.IndexByte(a, ':'), strings.LastIndexByte(a, ':')
		if first < 0 || first == last {
			fmt.Fprintln(sh.errOut, a+" does not have the form scheme:id:perm")
			continue
		}
		var perms int32
		for _, ch := range a[last+1:] {
			switch ch {
			case 'r':
				perms |= client.PermRead
			case 'w':
				perms |= client.PermWrite
			case 'c':
				perms |= client.PermCreate
			case 'd':
				perms |= client.PermDelete
			case 'a':
				perms |= client.PermAdmin
			default:
				fmt.Fprintf(sh.errOut, "Unknown perm type: %c\n", ch)
			}
		}
		acl = append(acl, client.ACL{Perms: perms, ID: client.ID{Scheme: a[:first], ID: a[first+1 : last]}})
	}
	return acl
}

// javaSplit is Java's String.split for a literal separator: trailing empty
// strings are dropped, and a string without the separator is returned whole.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	if len(parts) == 1 {
		return parts
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parseVersion parses a -v value as Integer.parseInt (zkCli dies with a
// stack trace on a bad one; zkcli prints the usage).
func (c *command) parseVersion(p *parsedArgs) (int32, error) {
	if !p.has("v") {
		return -1, nil
	}
	v, err := javaParseInt(p.value("v"))
	if err != nil {
		return 0, fail("version must be an integer: " + err.Error() + "\n" + c.usageLine())
	}
	return v, nil
}

func runDelete(sh *shell, ctx context.Context, c *command, words []string) error {
	n, s, err := c.openNode(ctx, sh, &optSet{opts: []opt{{name: "v", hasArg: true, desc: "version"}}}, words)
	if err != nil {
		return err
	}
	if err := s.Delete(ctx, n.path, n.version); err != nil {
		return serverErr(err, n.path)
	}
	return nil
}

func runDeleteAll(sh *shell, ctx context.Context, c *command, words []string) error {
	n, err := c.parseNode(sh, &optSet{opts: []opt{{name: "b", hasArg: true, desc: "batch size"}}}, words)
	if err != nil {
		return err
	}
	batch := int32(1000)
	if n.has("b") {
		if batch, err = javaParseInt(n.value("b")); err != nil {
			return fail("-b argument must be an int value")
		}
	}
	root := n.path
	s, err := sh.connNode(ctx, root)
	if err != nil {
		return err
	}
	// List the subtree breadth first, then delete it leaves first in
	// multi batches, as ZKUtil.deleteRecursive.
	tree := []string{root}
	for i := 0; i < len(tree); i++ {
		node := tree[i]
		children, _, _, err := s.Children(ctx, node, false)
		if err != nil {
			return serverErr(err, node)
		}
		for _, ch := range children {
			tree = append(tree, joinChild(node, ch))
		}
	}
	var ops []string
	for i := len(tree) - 1; i >= 0; i-- {
		ops = append(ops, tree[i])
		if int32(len(ops)) == batch || i == 0 {
			if err := s.DeleteAll(ctx, ops); err != nil {
				fmt.Fprintln(sh.errOut, "Failed to delete some node(s) in the subtree!")
				return nil
			}
			ops = nil
		}
	}
	return nil
}

// joinChild is the path of child name below parent.
func joinChild(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

func runSet(sh *shell, ctx context.Context, c *command, words []string) error {
	set := &optSet{opts: []opt{{name: "s", desc: "stats"}, {name: "v", hasArg: true, desc: "version"}}}
	n, s, err := c.openNode(ctx, sh, set, words)
	if err != nil {
		return err
	}
	st, err := s.Set(ctx, n.path, []byte(n.args[2]), n.version)
	if err != nil {
		return serverErr(err, n.path)
	}
	sh.printStatIf(n.parsedArgs, st)
	return nil
}

func runGet(sh *shell, ctx context.Context, c *command, words []string) error {
	set := &optSet{opts: []opt{{name: "s", desc: "stats"}, {name: "w", desc: "watch"}, optJSON()}}
	n, s, err := c.openNode(ctx, sh, set, words)
	if err != nil {
		return err
	}
	data, st, ch, err := s.Get(ctx, n.path, n.has("w"))
	if err != nil {
		return serverErr(err, n.path)
	}
	sh.watches.add(ch, watchData, n.path)
	if n.asJSON {
		return sh.printJSON(jsonNode{Path: n.path, Data: jsonData(data), Stat: statJSON(st)})
	}
	fmt.Fprintln(sh.out, nodeText(data))
	sh.printStatIf(n.parsedArgs, st)
	return nil
}

// lsHelp is what Commons CLI's HelpFormatter prints for "ls -?".
const lsHelp = "usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n"

func runLs(sh *shell, ctx context.Context, c *command, words []string) error {
	set := &optSet{opts: []opt{{name: "?", desc: "help"}, {name: "s", desc: "stat"}, {name: "w", desc: "watch"},
		{name: "R", desc: "recurse"}, optJSON()}}
	n, s, err := c.openNode(ctx, sh, set, words)
	if err != nil {
		return err
	}
	path, watch := n.path, n.has("w")
	if n.has("R") {
		var paths []string
		err := sh.visitSubtree(ctx, s, path, watch, func(p string) error {
			if n.asJSON {
				paths = append(paths, p)
			} else {
				fmt.Fprintln(sh.out, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n.asJSON {
			return sh.printJSON(jsonTree{Paths: nonNil(paths)})
		}
		return nil
	}
	children, st, ch, err := s.Children(ctx, path, watch)
	if err != nil {
		return serverErr(err, path)
	}
	sh.watches.add(ch, watchChild, path)
	sortJava(children)
	if n.asJSON {
		return sh.printJSON(jsonList{Path: path, Children: nonNil(children), Stat: statJSON(st)})
	}
	fmt.Fprintln(sh.out, javaList(children))
	sh.printStatIf(n.parsedArgs, st)
	return nil
}

// visitSubtree calls fn for root and then every node below it, as
// ZKUtil.visitSubTreeDFS: first every child of a node (sorted), then each
// child's subtree. With watch, a data watch is set on root and a child
// watch on every node. Nodes deleted meanwhile are skipped.
func (sh *shell) visitSubtree(ctx context.Context, s session, root string, watch bool, fn func(string) error) error {
	if err := validatePath(root, false); err != nil {
		return fail(err.Error())
	}
	_, _, ch, err := s.Get(ctx, root, watch)
	if err != nil {
		return serverErr(err, root)
	}
	sh.watches.add(ch, watchData, root)
	if err := fn(root); err != nil {
		return err
	}
	var visit func(path string) error
	visit = func(path string) error {
		children, _, ch, err := s.Children(ctx, path, watch)
		if errors.Is(err, client.ErrNoNode) {
			return nil
		}
		if err != nil {
			return serverErr(err, path)
		}
		sh.watches.add(ch, watchChild, path)
		sortJava(children)
		for _, c := range children {
			if err := fn(joinChild(path, c)); err != nil {
				return err
			}
		}
		for _, c := range children {
			if err := visit(joinChild(path, c)); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(root)
}

func runGetACL(sh *shell, ctx context.Context, c *command, words []string) error {
	n, s, err := c.openNode(ctx, sh, &optSet{opts: []opt{{name: "s", desc: "stats"}, optJSON()}}, words)
	if err != nil {
		return err
	}
	acl, st, err := s.GetACL(ctx, n.path)
	if err != nil {
		return serverErr(err, n.path)
	}
	if n.asJSON {
		return sh.printJSON(jsonACLs{Path: n.path, ACL: aclJSON(acl), Stat: statJSON(st)})
	}
	for _, a := range acl {
		fmt.Fprintf(sh.out, "%s: %s\n", idString(a.ID), permString(a.Perms))
	}
	sh.printStatIf(n.parsedArgs, st)
	return nil
}

func runSetACL(sh *shell, ctx context.Context, c *command, words []string) error {
	set := &optSet{opts: []opt{{name: "s", desc: "stats"}, {name: "v", hasArg: true, desc: "version"},
		{name: "R", desc: "recursive"}}}
	p, err := c.parseCmd(sh, set, words)
	if err != nil {
		return err
	}
	path := p.args[1]
	acl := parseACL(sh, p.args[2])
	version, err := c.parseVersion(p)
	if err != nil {
		return err
	}
	s, err := sh.connNode(ctx, path)
	if err != nil {
		return err
	}
	if p.has("R") {
		return sh.visitSubtree(ctx, s, path, false, func(node string) error {
			if len(acl) == 0 {
				fmt.Fprint(sh.out, keeperMessage(proto.ErrInvalidACL, ""))
				return nil
			}
			if _, err := s.SetACL(ctx, node, acl, version); err != nil {
				// zkCli prints the message with no line end.
				fmt.Fprint(sh.out, keeperErrMessage(err, node))
			}
			return nil
		})
	}
	if len(acl) == 0 {
		return fail(wrapperMessage(proto.ErrInvalidACL, ""))
	}
	st, err := s.SetACL(ctx, path, acl, version)
	if err != nil {
		return serverErr(err, path)
	}
	sh.printStatIf(p, st)
	return nil
}

func runStat(sh *shell, ctx context.Context, c *command, words []string) error {
	n, s, err := c.openNode(ctx, sh, &optSet{opts: []opt{{name: "w", desc: "watch"}, optJSON()}}, words)
	if err != nil {
		return err
	}
	st, ch, err := s.Exists(ctx, n.path, n.has("w"))
	if err != nil {
		return serverErr(err, n.path)
	}
	sh.watches.add(ch, watchData, n.path)
	if st == nil {
		return fail(wrapperMessage(proto.ErrNoNode, n.path))
	}
	if n.asJSON {
		return sh.printJSON(statJSON(st))
	}
	printStat(sh.out, st, sh.loc)
	return nil
}

func runSync(sh *shell, ctx context.Context, c *command, words []string) error {
	p, err := c.parseCmd(sh, &optSet{}, words)
	if err != nil {
		return err
	}
	path := p.args[1]
	if err := validatePath(path, false); err != nil {
		return fail(err.Error())
	}
	s, err := sh.conn(ctx)
	if err == nil {
		err = s.Sync(ctx, path)
	}
	var code proto.Code
	switch {
	case err == nil:
		fmt.Fprintln(sh.out, "Sync is OK")
	case errors.As(err, &code):
		// zkCli reports the result code of the asynchronous call.
		fmt.Fprintf(sh.out, "Sync has failed. rc=%d\n", int32(code))
	default:
		return fail(err.Error())
	}
	return nil
}

func runAddAuth(sh *shell, ctx context.Context, c *command, words []string) error {
	p, err := c.parseCmd(sh, &optSet{}, words)
	if err != nil {
		return err
	}
	var auth []byte
	if len(p.args) >= 3 {
		auth = []byte(p.args[2])
	}
	s, err := sh.conn(ctx)
	if err == nil {
		err = s.AddAuth(ctx, p.args[1], auth)
	}
	if errors.Is(err, client.ErrAuthFailed) {
		// The server drops a session whose credentials it rejects; zkCli's
		// watcher reports it and later commands find no connection.
		sh.closeSession(false)
		sh.printEvent(client.KeeperAuthFailed, client.EventNone, "")
		sh.closed = true
		return nil
	}
	if err != nil {
		return serverErr(err, "")
	}
	return nil
}

func runConfig(sh *shell, ctx context.Context, c *command, words []string) error {
	set := &optSet{opts: []opt{{name: "s", desc: "stats"}, {name: "w", desc: "watch"},
		{name: "c", desc: "client connection string"}, optJSON()}}
	p, err := c.parseCmd(sh, set, words)
	if err != nil {
		return err
	}
	asJSON, err := c.wantJSON(p)
	if err != nil {
		return err
	}
	watch := p.has("w")
	s, err := sh.conn(ctx)
	if err != nil {
		return serverErr(err, "")
	}
	data, st, ch, err := s.GetConfig(ctx, watch)
	if err != nil {
		return serverErr(err, "")
	}
	sh.watches.add(ch, watchData, configNode)
	if asJSON {
		return sh.printJSON(jsonNode{Path: configNode, Data: jsonData(data), Stat: statJSON(st)})
	}
	text := nodeText(data)
	if p.has("c") {
		text = clientConfigString(text)
	}
	fmt.Fprintln(sh.out, text)
	sh.printStatIf(p, st)
	return nil
}

// configNode holds the ensemble configuration.
const configNode = "/zookeeper/config"

// clientConfigString is ConfigUtils.getClientConfigStr: the config version
// and the client addresses of the servers, "version host:port,...".
func clientConfigString(cfg string) string {
	version := ""
	type server struct {
		id   int
		addr string
	}
	var servers []server
	for _, line := range strings.Split(cfg, "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if key == "version" {
			version = value
		}
		id, err := strconv.Atoi(strings.TrimPrefix(key, "server."))
		if !strings.HasPrefix(key, "server.") || err != nil {
			continue
		}
		_, client, ok := strings.Cut(value, ";")
		if !ok {
			servers = append(servers, server{id: id})
			continue
		}
		host, port, found := strings.Cut(client, ":")
		if !found {
			host, port = "0.0.0.0", host
		}
		servers = append(servers, server{id: id, addr: host + ":" + port})
	}
	// Java iterates a Properties hash; zkcli lists servers by id.
	slices.SortFunc(servers, func(a, b server) int { return a.id - b.id })
	addrs := make([]string, 0, len(servers))
	for _, s := range servers {
		addrs = append(addrs, s.addr)
	}
	return version + " " + strings.Join(addrs, ",")
}

func runRemoveWatches(sh *shell, ctx context.Context, c *command, words []string) error {
	set := &optSet{opts: []opt{{name: "c", desc: "child watcher type"}, {name: "d", desc: "data watcher type"},
		{name: "a", desc: "any watcher type"}, {name: "l", desc: "remove locally when there is no server connection"}}}
	n, s, err := c.openNode(ctx, sh, set, words)
	if err != nil {
		return err
	}
	t := client.WatcherAny
	switch {
	case n.has("c"):
		t = client.WatcherChildren
	case n.has("d"):
		t = client.WatcherData
	}
	if err := s.RemoveWatches(ctx, n.path, t); err != nil {
		return serverErr(err, n.path)
	}
	return nil
}

func runGetEphemerals(sh *shell, ctx context.Context, c *command, words []string) error {
	p, err := c.parseCmd(sh, &optSet{opts: []opt{optJSON()}}, words)
	if err != nil {
		return err
	}
	asJSON, err := c.wantJSON(p)
	if err != nil {
		return err
	}
	prefix := "/"
	if len(p.args) >= 2 {
		prefix = p.args[1]
		if err := validatePath(prefix, false); err != nil {
			return fail(err.Error())
		}
	}
	s, err := sh.conn(ctx)
	if err != nil {
		return serverErr(err, "")
	}
	// Like the Java client's, GetEphemerals ignores the chroot: the prefix
	// and the paths printed are the server's.
	eph, err := s.GetEphemerals(ctx, prefix)
	if err != nil {
		return serverErr(err, "")
	}
	if eph == nil {
		eph = []string{}
	}
	if asJSON {
		return sh.printJSON(jsonEphemerals{Ephemerals: eph})
	}
	fmt.Fprintln(sh.out, javaList(eph))
	return nil
}

func runGetAllChildrenNumber(sh *shell, ctx context.Context, c *command, words []string) error {
	n, s, err := c.openNode(ctx, sh, &optSet{opts: []opt{optJSON()}}, words)
	if err != nil {
		return err
	}
	count, err := s.GetAllChildrenNumber(ctx, n.path)
	if err != nil {
		return serverErr(err, n.path)
	}
	if n.asJSON {
		return sh.printJSON(jsonCount{Path: n.path, Count: count})
	}
	fmt.Fprintln(sh.out, count)
	return nil
}

func runVersion(sh *shell, ctx context.Context, c *command, words []string) error {
	if _, err := c.parseCmd(sh, &optSet{}, words); err != nil {
		return err
	}
	fmt.Fprintln(sh.out, "ZooKeeper CLI version: "+fullVersion())
	return nil
}

func runAddWatch(sh *shell, ctx context.Context, c *command, words []string) error {
	n, err := c.parseNode(sh, &optSet{opts: []opt{{name: "m", hasArg: true}}}, words)
	if err != nil {
		return err
	}
	recursive := true
	if n.has("m") {
		switch strings.ToUpper(n.value("m")) {
		case "PERSISTENT":
			recursive = false
		case "PERSISTENT_RECURSIVE":
		default:
			return c.usageErr()
		}
	}
	s, err := sh.connNode(ctx, n.path)
	if err != nil {
		return err
	}
	ch, err := s.AddWatch(ctx, n.path, recursive)
	if err != nil {
		return serverErr(err, n.path)
	}
	kind := watchPersistent
	if recursive {
		kind = watchRecursive
	}
	sh.watches.add(ch, kind, n.path)
	return nil
}

func runWhoAmI(sh *shell, ctx context.Context, c *command, words []string) error {
	// zkCli's whoami takes no options and ignores arguments; zkcli only
	// looks for "-o json".
	asJSON := false
	if i := slices.Index(words, "-o"); i > 0 && i+1 < len(words) {
		p := &parsedArgs{opts: []optValue{{name: "o", value: words[i+1], set: true}}}
		var err error
		if asJSON, err = c.wantJSON(p); err != nil {
			return err
		}
	}
	s, err := sh.conn(ctx)
	if err != nil {
		return serverErr(err, "")
	}
	infos, err := s.WhoAmI(ctx)
	if err != nil {
		return serverErr(err, "")
	}
	if asJSON {
		return sh.printJSON(whoamiJSON(infos))
	}
	fmt.Fprintln(sh.out, "Auth scheme: User")
	for _, ci := range infos {
		fmt.Fprintf(sh.out, "%s: %s\n", ci.AuthScheme, ci.User)
	}
	return nil
}

func runTree(sh *shell, ctx context.Context, c *command, words []string) error {
	p, err := c.parseCmd(sh, &optSet{}, words)
	if err != nil {
		return err
	}
	root := "/"
	if len(p.args) == 2 {
		root = p.args[1]
	}
	s, err := sh.connNode(ctx, root)
	if err != nil {
		return err
	}
	st, _, err := s.Exists(ctx, root, false)
	if err != nil {
		return serverErr(err, root)
	}
	if st == nil {
		return fail(wrapperMessage(proto.ErrNoNode, root))
	}
	fmt.Fprintln(sh.out, root)
	return drawTree(ctx, s, sh.out, root, "")
}
