package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkgo/zkgo/config"
)

// zkServer is what zkserver needs from server.Server. Serve returns nil
// once Shutdown or Close has stopped it, and closes ln.
type zkServer interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
}

// app is the program's view of its environment, so that tests can run the
// verbs in-process with their own streams, environment and server.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	environ        []string // environment of the background server start launches
	exe            string   // the program start re-executes; "" = os.Executable
	version        string   // the server's version, as its srvr reports it
	newServer      func(cfg *config.Config, logger *slog.Logger) (zkServer, error)
	// notify subscribes to SIGTERM and SIGINT; stop unsubscribes.
	notify func() (signals <-chan os.Signal, stop func())
}

// exitError carries an exit code. A nil err means the message was already
// printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// failed is an exit-1 error whose message has been printed already.
var failed = &exitError{code: 1}

func usageErr(err error) error { return &exitError{code: 2, err: err} }

// run executes the command line args and returns the exit code.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return ee.code
	}
	fmt.Fprintf(a.stderr, "zkserver: %v\n", err)
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, config.ErrInvalid):
		return 2
	}
	return 1
}

// options are the flags of all verbs.
type options struct {
	configFlag      string
	wait            time.Duration
	stopTimeout     time.Duration
	shutdownTimeout time.Duration
	logLevel        slog.Level
}

func (a *app) rootCmd() *cobra.Command {
	var o options
	root := &cobra.Command{
		Use:   "zkserver [--config DIR|FILE] {start|start-foreground|stop|restart|status|version|print-cmd} [zoo.cfg]",
		Short: "Run a zkgo (Apache ZooKeeper compatible) server, like zkServer.sh",
		Long: `zkserver runs a zkgo server with the verbs of Apache ZooKeeper's zkServer.sh.

The configuration is the first of: a FILE argument holding a '/', --config DIR|FILE,
$ZOOCFGDIR/$ZOOCFG (default zoo.cfg), conf/zoo.cfg, <program dir>/../conf/zoo.cfg,
else built-in defaults (standalone, 127.0.0.1:2181, dataDir ./data).
$ZOOPIDFILE overrides dataDir/zookeeper_server.pid; $ZOO_LOG_DIR (default dataDir)
holds the output of a server started in the background.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr(fmt.Errorf("unknown command %q (want start, start-foreground, stop, restart, status, version or print-cmd)", args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.PersistentFlags().StringVar(&o.configFlag, "config", "", "zoo.cfg, or the directory holding it")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })

	args := func(cmd *cobra.Command, args []string) error {
		if err := cobra.MaximumNArgs(1)(cmd, args); err != nil {
			return usageErr(err)
		}
		return nil
	}
	// setup resolves and loads the configuration of a verb.
	setup := func(cmd *cobra.Command, argv []string) (string, *config.Config, error) {
		var arg string
		if len(argv) > 0 {
			arg = argv[0]
		}
		path, err := findConfig(o.configFlag, arg, a.getenv, a.exeDir())
		if err != nil {
			return "", nil, usageErr(err)
		}
		fmt.Fprintf(a.stderr, "Using config: %s\n", describeConfig(path))
		cfg, err := loadConfig(path)
		if err != nil {
			return "", nil, err
		}
		return path, cfg, nil
	}

	startFG := &cobra.Command{
		Use:   "start-foreground [zoo.cfg]",
		Short: "Run the server in this process until SIGTERM or SIGINT",
		Args:  args,
		RunE: func(cmd *cobra.Command, argv []string) error {
			path, cfg, err := setup(cmd, argv)
			if err != nil {
				return err
			}
			return a.foreground(cmd.Context(), path, cfg, o)
		},
	}
	startFG.Flags().DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take before connections are closed")
	startFG.Flags().Var(levelFlag{&o.logLevel}, "log-level", "debug, info, warn or error")

	start := &cobra.Command{
		Use:   "start [zoo.cfg]",
		Short: "Start the server in the background and wait until it answers",
		Args:  args,
		RunE: func(cmd *cobra.Command, argv []string) error {
			path, cfg, err := setup(cmd, argv)
			if err != nil {
				return err
			}
			return a.start(cmd.Context(), path, cfg, o)
		},
	}
	start.Flags().DurationVar(&o.wait, "wait", 30*time.Second, "how long to wait for the server to answer on its client port")
	start.Flags().Var(levelFlag{&o.logLevel}, "log-level", "log level of the background server")

	stop := &cobra.Command{
		Use:   "stop [zoo.cfg]",
		Short: "Stop the server named by the pid file (SIGTERM) and wait for it to exit",
		Args:  args,
		RunE: func(cmd *cobra.Command, argv []string) error {
			_, cfg, err := setup(cmd, argv)
			if err != nil {
				return err
			}
			return a.stop(cmd.Context(), cfg, o)
		},
	}
	stop.Flags().DurationVar(&o.stopTimeout, "timeout", 30*time.Second, "how long to wait for the server to exit")

	restart := &cobra.Command{
		Use:   "restart [zoo.cfg]",
		Short: "stop, then start",
		Args:  args,
		RunE: func(cmd *cobra.Command, argv []string) error {
			path, cfg, err := setup(cmd, argv)
			if err != nil {
				return err
			}
			if err := a.stop(cmd.Context(), cfg, o); err != nil {
				return err
			}
			return a.start(cmd.Context(), path, cfg, o)
		},
	}
	restart.Flags().DurationVar(&o.stopTimeout, "timeout", 30*time.Second, "how long to wait for the server to exit")
	restart.Flags().DurationVar(&o.wait, "wait", 30*time.Second, "how long to wait for the server to answer on its client port")
	restart.Flags().Var(levelFlag{&o.logLevel}, "log-level", "log level of the background server")

	status := &cobra.Command{
		Use:   "status [zoo.cfg]",
		Short: "Ask the server for its mode (srvr) and print \"Mode: ...\"",
		Args:  args,
		RunE: func(cmd *cobra.Command, argv []string) error {
			_, cfg, err := setup(cmd, argv)
			if err != nil {
				return err
			}
			return a.status(cmd.Context(), cfg)
		},
	}

	printCmd := &cobra.Command{
		Use:   "print-cmd [zoo.cfg]",
		Short: "Print the command start runs",
		Args:  args,
		RunE: func(cmd *cobra.Command, argv []string) error {
			path, cfg, err := setup(cmd, argv)
			if err != nil {
				return err
			}
			exe, err := a.executable()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s > %s 2>&1 < /dev/null\n", shellQuote(append([]string{exe}, childArgs(path, o)...)), shellQuote([]string{a.logFile(cfg)}))
			return nil
		},
	}
	printCmd.Flags().Var(levelFlag{&o.logLevel}, "log-level", "log level of the background server")

	version := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(a.stdout, a.versionLine())
		},
	}
	root.AddCommand(start, startFG, stop, restart, status, version, printCmd)
	return root
}

// levelFlag is a pflag.Value for a slog level ("debug", "info", "warn",
// "error", optionally with an offset such as "info+2").
type levelFlag struct{ l *slog.Level }

func (f levelFlag) String() string {
	if f.l == nil {
		return slog.LevelInfo.String()
	}
	return f.l.String()
}

func (f levelFlag) Set(s string) error { return f.l.UnmarshalText([]byte(s)) }
func (f levelFlag) Type() string       { return "level" }

// status prints "Mode: ..." from the server's srvr answer, or zkServer.sh's
// message and exit status 1 when it cannot be had.
func (a *app) status(ctx context.Context, cfg *config.Config) error {
	host, port := statusTarget(cfg)
	fmt.Fprintf(a.stdout, "Client port found: %s. Client address: %s. Client SSL: false.\n", port, host)
	answer, err := fourLetterWord(ctx, hostPort(host, port), "srvr", fourLetterTimeout)
	mode, ok := parseMode(answer)
	if err == nil && strings.Contains(answer, "not currently serving requests") {
		// zkServer.sh says "probably not running" here too; the process is
		// up, though, and waiting for a quorum.
		fmt.Fprintln(a.stdout, "Error contacting service. It is running but not serving requests: no leader (it waits for a majority of its ensemble).")
		return failed
	}
	if err != nil || !ok {
		fmt.Fprintln(a.stdout, "Error contacting service. It is probably not running.")
		return failed
	}
	fmt.Fprintln(a.stdout, mode)
	return nil
}

func (a *app) executable() (string, error) {
	if a.exe != "" {
		return a.exe, nil
	}
	return os.Executable()
}

func (a *app) exeDir() string {
	exe, err := a.executable()
	if err != nil {
		return ""
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return filepath.Dir(exe)
}

// versionLine is what "version" prints: the line zkServer.sh version
// prints ("Apache ZooKeeper, version V ..."), with the version the server's
// srvr reports, followed by the build: the VCS revision when known, the Go
// version and the platform.
func (a *app) versionLine() string {
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				rev = " rev " + s.Value[:7] + ","
			}
		}
	}
	return fmt.Sprintf("Apache ZooKeeper, version %s (zkgo%s %s %s/%s)", a.version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
