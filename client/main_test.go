package client

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	zkconfig "github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/server"
)

// The suite runs against one ZooKeeper server started by TestMain. A target
// starts a server and returns its client address and a stop function;
// ZKGO_TEST_TARGET selects one: "zkgo" (default, in-process) or "apache";
// `make test` runs the suite against both.
var targets = map[string]func() (addr string, stop func(), err error){
	"apache": startApacheZooKeeper,
	"zkgo":   startZkgo,
}

// Set by TestMain: the server address, or why tests needing it are skipped.
var (
	testServer string
	testSkip   string
)

// TestMain starts the target server. If it cannot be started the tests that
// need it are skipped (examples are not run), unless ZKGO_INTEROP_REQUIRED=1
// (CI), which makes that a failure.
func TestMain(m *testing.M) {
	flag.Parse()
	name := os.Getenv("ZKGO_TEST_TARGET")
	if name == "" {
		name = "zkgo"
	}
	start, ok := targets[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown ZKGO_TEST_TARGET %q\n", name)
		os.Exit(2)
	}
	addr, stop, err := start()
	if err != nil {
		if os.Getenv("ZKGO_INTEROP_REQUIRED") == "1" {
			fmt.Fprintf(os.Stderr, "target %s: %v\n", name, err)
			os.Exit(1)
		}
		testSkip = fmt.Sprintf("target %s unavailable: %v", name, err)
		fmt.Fprintln(os.Stderr, "client tests: "+testSkip+"; skipping server tests and examples")
		// Examples have no Skip: leave them out, unless -run chose tests.
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
			flag.Set("test.run", "^(Test|Fuzz)")
		}
		os.Exit(m.Run())
	}
	testServer = addr
	code := m.Run()
	stop()
	os.Exit(code)
}

// needServer skips t when no server is available and returns its address.
func needServer(t testing.TB) string {
	t.Helper()
	if testServer == "" {
		t.Skip(testSkip)
	}
	return testServer
}

// apacheClasspath lists the jars Apache ZooKeeper's server needs from the
// Debian packages zookeeper / libzookeeper-java.
var apacheClasspath = []string{
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/slf4j-api.jar",
	"/usr/share/java/slf4j-simple.jar",
}

// startApacheZooKeeper runs Apache ZooKeeper 3.8 standalone on a free
// 127.0.0.1 port with a temporary data directory. tickTime 200ms lets tests
// use sessions down to 400ms; digest user super:test is the superuser.
func startApacheZooKeeper() (string, func(), error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return "", nil, fmt.Errorf("java not found (install the Debian package `zookeeper`): %w", err)
	}
	for _, jar := range apacheClasspath {
		if _, err := os.Stat(jar); err != nil {
			return "", nil, fmt.Errorf("%s missing (install the Debian package `zookeeper`)", jar)
		}
	}
	dir, err := os.MkdirTemp("", "zkgo-client-test-")
	if err != nil {
		return "", nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	cfg := fmt.Sprintf("tickTime=200\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
		"maxSessionTimeout=60000\nmaxClientCnxns=0\n", filepath.Join(dir, "data"), port)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	logPath := filepath.Join(dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	cmd := exec.Command(java, "-Xmx256m", "-cp", strings.Join(apacheClasspath, ":"),
		"-Dzookeeper.4lw.commands.whitelist=*",
		"-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.extendedTypesEnabled=true",
		"-Dznode.container.checkIntervalMs=1000",
		"-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
		"org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return "", nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Kill() // the process this function started, by PID
		<-exited
		logf.Close()
		os.RemoveAll(dir)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if fourLetter(addr, "ruok") == "imok" {
			return addr, stop, nil
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			stop()
			return "", nil, fmt.Errorf("server exited:\n%s", out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			stop()
			return "", nil, fmt.Errorf("server not ready after 60s:\n%s", out)
		}
	}
}

// startZkgo runs a zkgo server in this process with the settings
// startApacheZooKeeper gives Apache ZooKeeper.
func startZkgo() (string, func(), error) {
	dir, err := os.MkdirTemp("", "zkgo-client-test-")
	if err != nil {
		return "", nil, err
	}
	cfg := zkconfig.Default()
	cfg.TickTime = 200 * time.Millisecond
	cfg.MaxSessionTimeout = 60 * time.Second
	cfg.MaxClientCnxns = 0
	cfg.DataDir = dir
	cfg.ExtendedTypesEnabled = true
	cfg.ContainerCheckInterval = time.Second
	cfg.FourLetterWhitelist = zkconfig.WordSet{"*": {}}
	cfg.SuperDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return "", nil, err
	}
	served := make(chan struct{})
	go func() { srv.Serve(ln); close(served) }()
	stop := func() {
		srv.Close()
		<-served
		os.RemoveAll(dir)
	}
	return ln.Addr().String(), stop, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// fourLetter sends a four-letter word and returns the reply ("" on error).
func fourLetter(addr, cmd string) string {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := nc.Write([]byte(cmd)); err != nil {
		return ""
	}
	b, _ := io.ReadAll(bufio.NewReader(nc))
	return string(b)
}
