package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/peterh/liner"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, dialConn)
	stop()
	os.Exit(code)
}

// cmdLine is zkcli's command line, as ZooKeeperMain's MyCommandOptions.
type cmdLine struct {
	server  string
	timeout time.Duration
	ro      bool
	words   []string // the one-shot command, if any
}

// parseCmdLine reads the options before the command: -server,
// -timeout (ms), -r (read-only), and, accepted but unused, -client-configuration FILE
// and -waitforconnection. As zkCli, other words starting with "-" are
// ignored and the first other word starts the command.
func parseCmdLine(args []string) (cmdLine, error) {
	cl := cmdLine{server: "localhost:2181", timeout: 30 * time.Second}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("Error: no argument found for option %s", a)
			}
			i++
			return args[i], nil
		}
		switch a {
		case "-server":
			v, err := next()
			if err != nil {
				return cl, err
			}
			cl.server = v
		case "-timeout":
			v, err := next()
			if err != nil {
				return cl, err
			}
			ms, err := strconv.Atoi(v)
			if err != nil || ms <= 0 {
				return cl, fmt.Errorf("-timeout must be a positive number of milliseconds, not %q", v)
			}
			cl.timeout = time.Duration(ms) * time.Millisecond
		case "-r":
			cl.ro = true
		case "-client-configuration":
			if _, err := next(); err != nil {
				return cl, err
			}
		default:
			if !strings.HasPrefix(a, "-") {
				cl.words = args[i:]
				return cl, nil
			}
		}
	}
	return cl, nil
}

// connectTimeout bounds the wait for a server: zkCli reports
// ConnectionLoss as soon as its first attempt fails, so zkcli does not wait
// for the whole session timeout.
func connectTimeout(session time.Duration) time.Duration { return min(session, 5*time.Second) }

// runMain is the program: it returns the exit code.
func runMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, dial dialer) int {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprintln(stdout, "usage: zkcli [-server host:port[,host:port][/chroot]] [-timeout ms] [-r] [cmd args...]")
			fmt.Fprint(stdout, usageText())
			return exitOK
		}
	}
	cl, err := parseCmdLine(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitBadArguments
	}
	o := dialOptions{sessionTimeout: cl.timeout, connectTimeout: connectTimeout(cl.timeout), readOnly: cl.ro}
	sh := newShell(stdout, stderr, dial, cl.server, o)
	fmt.Fprintln(stdout, "Connecting to "+cl.server)
	if len(cl.words) > 0 {
		return sh.runOne(ctx, cl.words)
	}

	fmt.Fprintln(stdout, "Welcome to ZooKeeper!")
	terminal := isTerminalFile(stdin) && isTerminalFile(stdout) && liner.TerminalSupported()
	if !terminal {
		// Without a terminal zkCli reads plain lines and shows no prompt.
		fmt.Fprintln(stdout, "JLine support is disabled")
		sh.connectQuietly(ctx)
		return sh.run(ctx, plainReader{bufio.NewReader(stdin)})
	}
	fmt.Fprintln(stdout, "JLine support is enabled")
	sh.color = true
	sh.connectQuietly(ctx)
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	ln.SetTabCompletionStyle(liner.TabPrints)
	ln.SetWordCompleter(sh.complete)
	hist := historyFile()
	if f, err := os.Open(hist); err == nil {
		ln.ReadHistory(f)
		f.Close()
	}
	code := sh.run(ctx, linerReader{ln})
	if hist != "" {
		if f, err := os.OpenFile(hist, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err == nil {
			ln.WriteHistory(f)
			f.Close()
		}
	}
	return code
}

// connectQuietly opens the session at start, as zkCli does in the
// background; a failure shows later as ConnectionLoss on the first command.
func (sh *shell) connectQuietly(ctx context.Context) {
	if _, err := sh.conn(ctx); err != nil && sh.color {
		sh.printErr(fmt.Sprintf("Unable to connect to %s: %v", sh.host, err))
	}
	sh.drain()
}

// historyFile is where line editing history persists.
func historyFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".zkcli_history")
}

// isTerminalFile reports whether v is an *os.File open on a terminal.
func isTerminalFile(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// plainReader reads lines without editing, as zkCli's BufferedReader.
type plainReader struct{ r *bufio.Reader }

func (p plainReader) readLine(string) (string, error) {
	line, err := p.r.ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// linerReader reads lines with editing and history.
type linerReader struct{ ln *liner.State }

func (l linerReader) readLine(prompt string) (string, error) {
	line, err := l.ln.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", errAborted
	}
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(line) != "" {
		l.ln.AppendHistory(line)
	}
	return line, nil
}
