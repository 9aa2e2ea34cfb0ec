package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/proto"
)

// shell runs zkCli commands against one server connection at a time. Its
// fields belong to the goroutine running it (run or runOne), except
// complSess: the line reader goroutine that run starts uses it to complete
// paths (sessions are safe for concurrent use).
type shell struct {
	out, errOut io.Writer
	loc         *time.Location // zone of printed times (Java prints local time)
	dial        dialer
	dopts       dialOptions

	host   string  // connect string of the current or last connection
	sess   session // nil until connected, and after close
	closed bool    // closed by close or a failed auth: commands print "Not connected"
	states <-chan client.State

	watches      watchSet
	printWatches bool
	history      map[int]string
	count        int // commands entered so far (the prompt's number)
	exitCode     int
	quit         bool
	color        bool // colour errors and events (terminal output)
	oneShot      bool // a command from the command line: say why a connection failed

	// The path completer runs on the line reader's goroutine; it reads the
	// session through complSess, which setSession keeps equal to sess.
	complMu   sync.Mutex
	complSess session // guarded by complMu
}

// setSession replaces the session (nil for none).
func (sh *shell) setSession(s session) {
	sh.sess, sh.states = s, nil
	if s != nil {
		sh.states = s.States()
	}
	sh.complMu.Lock()
	sh.complSess = s
	sh.complMu.Unlock()
}

// Exit codes, as zkCli's.
const (
	exitOK           = 0
	exitError        = 1
	exitUnknownCmd   = 127
	exitBadArguments = 2 // bad command line options
)

// cmdError is a failed command: msg is printed on stderr (unless empty)
// and code becomes the exit code.
type cmdError struct {
	msg  string
	code int
}

func (e *cmdError) Error() string { return e.msg }

func fail(msg string) error { return &cmdError{msg: msg, code: exitError} }

// errQuit ends the shell without changing the exit code of the previous
// command, as zkCli's quit.
var errQuit = errors.New("quit")

func newShell(out, errOut io.Writer, dial dialer, host string, o dialOptions) *shell {
	return &shell{
		out: out, errOut: errOut, loc: time.Local, dial: dial, dopts: o, host: host,
		printWatches: true, history: map[int]string{},
	}
}

// printMessage is ZooKeeperMain.printMessage: a blank line, then msg.
func (sh *shell) printMessage(msg string) {
	if sh.color {
		msg = "\x1b[33m" + msg + "\x1b[0m"
	}
	fmt.Fprintf(sh.out, "\n%s\n", msg)
}

// printEvent prints a watch or session event as zkCli's default watcher.
func (sh *shell) printEvent(state client.KeeperState, typ client.EventType, path string) {
	if !sh.printWatches {
		return
	}
	sh.printMessage("WATCHER::")
	sh.printMessage(eventString(state, typ, path))
}

// conn returns the session, connecting first if there is none: zkCli's
// commands wait for the connection, and fail with ConnectionLoss if it
// cannot be made. A one-shot command first prints why, as a terminal
// session does when it starts.
func (sh *shell) conn(ctx context.Context) (session, error) {
	if sh.sess != nil {
		return sh.sess, nil
	}
	s, err := sh.dial(ctx, sh.host, sh.dopts)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		if sh.oneShot {
			sh.printErr(fmt.Sprintf("Unable to connect to %s: %v", sh.host, err))
		}
		return nil, fmt.Errorf("%w (%v)", proto.ErrConnectionLoss, err)
	}
	sh.setSession(s)
	sh.printEvent(client.KeeperSyncConnected, client.EventNone, "")
	return s, nil
}

// closeSession ends the session; printClosed prints the Closed event
// zkCli's watcher receives.
func (sh *shell) closeSession(printClosed bool) {
	if sh.sess == nil {
		return
	}
	sh.sess.Close()
	// Events that arrived before the session ended (such as those its own
	// ephemeral nodes' deletion fired) are printed before Closed.
	sh.drain()
	sh.setSession(nil)
	sh.watches.reset()
	if printClosed {
		sh.printEvent(client.KeeperClosed, client.EventNone, "")
	}
}

// connectTo is zkCli's connect: close the current session, then open one
// to host.
func (sh *shell) connectTo(ctx context.Context, host string) {
	sh.closeSession(true)
	sh.host, sh.closed = host, false
	if _, err := sh.conn(ctx); err != nil {
		fmt.Fprintf(sh.errOut, "Unable to connect to %s: %v\n", host, err)
	}
}

// prompt is zkCli's prompt: "[zk: host(STATE) N] ".
func (sh *shell) prompt() string {
	return "[zk: " + sh.host + "(" + sh.stateName() + ") " + strconv.Itoa(sh.count) + "] "
}

// stateName is the Java client's state name for the prompt.
func (sh *shell) stateName() string {
	switch {
	case sh.closed:
		return "CLOSED"
	case sh.sess == nil:
		return "CONNECTING"
	}
	switch sh.sess.State() {
	case client.Connected, client.Reconnected:
		return "CONNECTED"
	case client.ReadOnly:
		return "CONNECTEDREADONLY"
	}
	return "CONNECTING"
}

// handleState prints the event zkCli's watcher gets for a state change.
func (sh *shell) handleState(st client.State, ok bool) {
	if !ok {
		sh.states = nil
		return
	}
	switch st {
	case client.Suspended:
		sh.printEvent(client.KeeperDisconnected, client.EventNone, "")
	case client.Reconnected:
		sh.printEvent(client.KeeperSyncConnected, client.EventNone, "")
	case client.ReadOnly:
		sh.printEvent(client.KeeperReadOnly, client.EventNone, "")
	case client.Lost:
		sh.printEvent(client.KeeperExpired, client.EventNone, "")
	}
	// Connected was printed when the session was opened.
}

// handleEvents prints the events of a batch of receives (see watchSet.fold).
func (sh *shell) handleEvents(batch []received) {
	for _, e := range sh.watches.fold(batch) {
		sh.printEvent(e.State, e.Type, e.Path)
	}
}

// Fixed select cases ahead of the watch sources.
const (
	caseStates = iota
	caseExtra  // the caller's channel (lines), or the default case
	numFixed
)

// wait blocks until extra delivers (returning its value) or ctx ends,
// printing events as they come. With extra invalid it returns as soon as
// nothing is ready.
func (sh *shell) wait(ctx context.Context, extra reflect.Value) (reflect.Value, bool) {
	for {
		// Events that are ready go first, together: the order of one-shot
		// channels filled by the same reply is restored by watchSet.fold.
		if batch := sh.watches.gather(nil); len(batch) > 0 {
			sh.handleEvents(batch)
		}
		cases := make([]reflect.SelectCase, numFixed, numFixed+1+len(sh.watches.srcs))
		cases[caseStates] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(sh.states)}
		if extra.IsValid() {
			cases[caseExtra] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: extra}
		} else {
			cases[caseExtra] = reflect.SelectCase{Dir: reflect.SelectDefault}
		}
		cases = append(cases, sh.watches.selectCases()...)
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
		srcs := slices.Clone(sh.watches.srcs)
		i, v, ok := reflect.Select(cases)
		switch {
		case i == caseStates:
			st, _ := v.Interface().(client.State)
			sh.handleState(st, ok)
		case i == caseExtra:
			return v, ok
		case i == len(cases)-1:
			return reflect.Value{}, false
		default:
			e, _ := v.Interface().(client.Event)
			sh.handleEvents(sh.watches.gather(&received{srcs[i-numFixed], e, ok}))
		}
	}
}

// drain prints the events that are ready now.
func (sh *shell) drain() {
	sh.wait(context.Background(), reflect.Value{})
}

// executeLine runs one line typed by the user, as ZooKeeperMain.executeLine.
func (sh *shell) executeLine(ctx context.Context, line string) {
	if line == "" {
		return
	}
	sh.history[sh.count] = line
	if words := splitLine(line); len(words) > 0 {
		sh.processCmd(ctx, words)
	}
	sh.count++
}

// processCmd runs a command and records its exit code, printing its error.
func (sh *shell) processCmd(ctx context.Context, words []string) {
	err := sh.processZKCmd(ctx, words)
	var ce *cmdError
	switch {
	case err == nil:
		sh.exitCode = exitOK
	case errors.Is(err, errQuit):
		sh.quit = true
	case errors.As(err, &ce):
		sh.exitCode = ce.code
		if ce.msg != "" {
			sh.printErr(ce.msg)
		}
	default:
		sh.exitCode = exitError
		sh.printErr(err.Error())
	}
}

func (sh *shell) printErr(msg string) {
	if sh.color {
		msg = "\x1b[31m" + msg + "\x1b[0m"
	}
	fmt.Fprintln(sh.errOut, msg)
}

// processZKCmd dispatches a command as ZooKeeperMain.processZKCmd.
func (sh *shell) processZKCmd(ctx context.Context, words []string) error {
	name := words[0]
	c := lookupCommand(name)
	if c == nil {
		sh.usage()
		return &cmdError{msg: "Command not found: Command not found " + name, code: exitUnknownCmd}
	}
	switch name {
	case "quit":
		sh.closeSession(true)
		return errQuit
	case "redo":
		if len(words) >= 2 {
			if err := sh.redo(ctx, words[1]); err != nil {
				return err
			}
		}
	case "history":
		for i := sh.count - 10; i <= sh.count; i++ {
			if i < 0 {
				continue
			}
			line, ok := sh.history[i]
			if !ok {
				line = "null"
			}
			fmt.Fprintf(sh.out, "%d - %s\n", i, line)
		}
	case "printwatches":
		if len(words) == 1 {
			state := "off"
			if sh.printWatches {
				state = "on"
			}
			fmt.Fprintf(sh.out, "printwatches is %s\n", state)
		} else {
			sh.printWatches = words[1] == "on"
		}
	case "connect":
		host := sh.host
		if len(words) >= 2 {
			host = words[1]
		}
		sh.connectTo(ctx, host)
	case "help":
		sh.help()
		return nil
	}
	if sh.closed {
		fmt.Fprintln(sh.out, "Not connected")
		return nil
	}
	if c.run == nil {
		return nil
	}
	return c.run(sh, ctx, c, slices.Clone(words))
}

// redo runs command number arg of the history again.
func (sh *shell) redo(ctx context.Context, arg string) error {
	i, err := javaDecode(arg)
	if err != nil {
		return fail("redo cmdno")
	}
	if sh.count <= i || i < 0 {
		return fail("Command index out of range")
	}
	line := sh.history[i]
	words := splitLine(line)
	if len(words) == 0 {
		return nil
	}
	if words[0] == "redo" {
		return fail("No redoing redos")
	}
	sh.history[sh.count] = line
	sh.processCmd(ctx, words)
	return nil
}

// usageHeader is the first line of zkCli's usage.
const usageHeader = "ZooKeeper -server host:port -client-configuration properties-file cmd args"

// usage prints every command with its options on stderr, as zkCli does for
// an unknown command.
func (sh *shell) usage() {
	fmt.Fprint(sh.errOut, usageText())
}

func usageText() string {
	var b strings.Builder
	b.WriteString(usageHeader + "\n")
	for _, c := range sortedCommands() {
		if !c.extension {
			fmt.Fprintf(&b, "\t%s %s\n", c.name, c.options)
		}
	}
	return b.String()
}

// help prints the usage on stdout, with zkcli's own additions.
func (sh *shell) help() {
	fmt.Fprint(sh.out, usageText())
	fmt.Fprintln(sh.out, "zkcli additions:")
	for _, c := range sortedCommands() {
		if c.extension {
			fmt.Fprintf(sh.out, "\t%s %s\n", c.name, c.options)
		}
	}
	fmt.Fprintln(sh.out, "\t-o json on ls, get, stat, getAcl, getEphemerals, getAllChildrenNumber, config, whoami")
}

// lineResult is one line read from the user.
type lineResult struct {
	line string
	err  error
}

// lineReader reads lines of input, showing prompt if it is interactive.
type lineReader interface {
	readLine(prompt string) (string, error)
}

// run reads and executes lines until input ends, quit, or ctx ends, and
// returns the exit code: the last command's, as zkCli's. Lines are read on
// a goroutine that run starts, so that events print while the user types;
// it reads a line only when run asks for one (after the previous command's
// output), and ends when input ends or run returns (a read already blocked
// on a terminal finishes when the process exits).
func (sh *shell) run(ctx context.Context, in lineReader) int {
	prompts := make(chan string)
	lines := make(chan lineResult)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			var p string
			select {
			case p = <-prompts:
			case <-done:
				return
			}
			line, err := in.readLine(p)
			select {
			case lines <- lineResult{line, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for !sh.quit {
		select {
		case prompts <- sh.prompt():
		case <-ctx.Done():
			sh.closeSession(false)
			return sh.exitCode
		}
		v, ok := sh.wait(ctx, reflect.ValueOf(lines))
		if !ok {
			break // ctx ended
		}
		r, _ := v.Interface().(lineResult)
		if r.err != nil {
			if errors.Is(r.err, errAborted) {
				continue
			}
			break // end of input
		}
		sh.executeLine(ctx, r.line)
		sh.drain()
	}
	// At the end of input zkCli exits without closing the session, leaving
	// its ephemeral nodes for the session timeout; zkcli closes it, quietly.
	sh.closeSession(false)
	return sh.exitCode
}

// errAborted is returned by a lineReader for a line abandoned with Ctrl-C.
var errAborted = errors.New("line aborted")

// runOne runs one command given on the command line and returns its exit
// code, as zkCli's one-shot mode.
func (sh *shell) runOne(ctx context.Context, words []string) int {
	sh.oneShot = true
	sh.processCmd(ctx, words)
	sh.drain()
	sh.closeSession(false)
	return sh.exitCode
}
