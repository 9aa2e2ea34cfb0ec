package interop

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/internal/ensemble"
	"github.com/zkgo/zkgo/internal/zkgoproc"
)

// Environment variables that steer the suite.
const (
	// envTargets lists the servers to judge, separated by commas or spaces:
	// any of "apache", "zkgo" (standalone servers), "apache-ensemble" and
	// "zkgo-ensemble" (3-voter ensembles). Default: defaultTargets.
	envTargets = "ZKGO_TARGETS"
	// envRequired set to 1 (CI) turns a missing tool into a failure instead of a skip.
	envRequired = "ZKGO_INTEROP_REQUIRED"

	defaultTargets = "apache,zkgo,apache-ensemble,zkgo-ensemble"
)

const (
	javaDir = "/usr/share/java"
	// superDigest is the digest of super:test, the superuser of client test suites.
	superDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
	// serverStartTimeout bounds one server start; a JVM on a loaded 2-core box is slow.
	serverStartTimeout = 60 * time.Second
)

func TestMain(m *testing.M) {
	code := m.Run()
	zkgoproc.RemoveBuild()
	os.Exit(code)
}

// serverOpts are the per-test server settings; the zero value is the default.
type serverOpts struct {
	// tickTime is ZooKeeper's tick; sessions may last 2 to 20 ticks. Zero means 2s.
	tickTime time.Duration
	// readOnly sets readonlymode.enabled: an ensemble member without a
	// quorum serves read-only sessions to clients that ask for them.
	readOnly bool
}

func (o serverOpts) tick() time.Duration {
	if o.tickTime == 0 {
		return 2 * time.Second
	}
	return o.tickTime
}

// ensembleTick is the tick of an ensemble target: tickTime if set, else
// 500ms, the ensemble packages' default. The tick also times an ensemble's
// failure detection (syncLimit ticks), and at 2s a fresh zkgo ensemble
// waits 10s for its first election. The 10s sessions the suites ask for
// are granted as by the standalone servers.
func (o serverOpts) ensembleTick() time.Duration {
	if o.tickTime == 0 {
		return 500 * time.Millisecond
	}
	return o.tickTime
}

// target is one running server, or ensemble of servers, under test.
type target struct {
	name string // a backend's name
	// addr is the connect string: 127.0.0.1:port of a standalone server's
	// client port, or every ensemble member's, separated by commas.
	addr string
	// stop kills the server(s) by PID and waits; safe to call more than once.
	// It is also registered with t.Cleanup.
	stop func()
	// members are the servers of an ensemble target, which tests stop and
	// start by index (myid-1); nil for a standalone server.
	members *ensemble.Ensemble
}

// backend knows how to start one kind of server.
type backend struct {
	name     string
	ensemble bool // a replicated ensemble rather than one standalone server
	start    func(t *testing.T, o serverOpts) *target
}

func backends() []backend {
	return []backend{
		{"apache", false, startApache},
		{"zkgo", false, startZkgo},
		{"apache-ensemble", true, startApacheEnsemble},
		{"zkgo-ensemble", true, startZkgoEnsemble},
	}
}

// enabledBackends returns the backends named in ZKGO_TARGETS.
func enabledBackends(t *testing.T) []backend {
	t.Helper()
	spec := os.Getenv(envTargets)
	if strings.TrimSpace(spec) == "" {
		spec = defaultTargets
	}
	var out []backend
	for _, name := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ' ' }) {
		found := false
		for _, b := range backends() {
			if b.name == name {
				out = append(out, b)
				found = true
			}
		}
		if !found {
			t.Fatalf("%s=%q: unknown target %q (want apache, zkgo, apache-ensemble, zkgo-ensemble)", envTargets, spec, name)
		}
	}
	return out
}

// forEachTarget runs fn as a parallel subtest per enabled target, each with
// a fresh server or ensemble; fn must accept a connect string of several
// servers.
func forEachTarget(t *testing.T, o serverOpts, fn func(t *testing.T, tg *target)) {
	t.Helper()
	runTargets(t, o, func(backend) bool { return true }, fn)
}

// forEachEnsemble is forEachTarget for the ensemble targets only: fn stops
// and starts servers of tg.members.
func forEachEnsemble(t *testing.T, o serverOpts, fn func(t *testing.T, tg *target)) {
	t.Helper()
	runTargets(t, o, func(b backend) bool { return b.ensemble }, fn)
}

func runTargets(t *testing.T, o serverOpts, want func(backend) bool, fn func(t *testing.T, tg *target)) {
	t.Helper()
	ran := false
	for _, b := range enabledBackends(t) {
		if !want(b) {
			continue
		}
		ran = true
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.start(t, o))
		})
	}
	if !ran {
		t.Skipf("no target of this kind in %s=%q", envTargets, os.Getenv(envTargets))
	}
}

// missing skips t because a tool is absent, or fails it when ZKGO_INTEROP_REQUIRED=1.
func missing(t testing.TB, pkg, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + fmt.Sprintf(" (install the Debian package %s)", pkg)
	if os.Getenv(envRequired) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// requireCmd returns the path of an executable or skips/fails naming pkg.
func requireCmd(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, pkg, "%s not found: %v", name, err)
	}
	return p
}

// requireFile checks that path exists or skips/fails naming pkg.
func requireFile(t testing.TB, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, pkg, "%s: %v", path, err)
	}
	return path
}

// requireJava checks the JVM and the ZooKeeper jars every Java-based tool needs.
func requireJava(t testing.TB) string {
	t.Helper()
	java := requireCmd(t, "java", "openjdk-17-jre-headless")
	requireFile(t, filepath.Join(javaDir, "zookeeper.jar"), "zookeeper")
	requireFile(t, filepath.Join(javaDir, "zookeeper-jute.jar"), "zookeeper")
	requireFile(t, filepath.Join(javaDir, "slf4j-simple.jar"), "libslf4j-java")
	return java
}

// sharedConfig holds the zoo.cfg lines both servers read after tickTime,
// dataDir, clientPort and clientPortAddress. Apache turns unknown keys into
// zookeeper.<key> system properties; zkgo reads them as configuration.
func sharedConfig() []string {
	return []string{
		"maxClientCnxns=0",
		"admin.enableServer=false",
		"4lw.commands.whitelist=*",
		"extendedTypesEnabled=true",
		"znode.container.checkIntervalMs=1000",
		"DigestAuthenticationProvider.superDigest=" + superDigest,
	}
}

// serverConfig is sharedConfig plus the settings o asks for.
func serverConfig(o serverOpts) []string {
	cfg := sharedConfig()
	if o.readOnly {
		// Apache reads readonlymode.enabled as a system property only
		// (apacheProperties). Since 3.7 its read-only server refuses to
		// create global sessions, so read-only clients need local sessions
		// (the Apache docs say so since apache/zookeeper#1922), which
		// become global when they create an ephemeral.
		cfg = append(cfg, "readonlymode.enabled=true",
			"localSessionsEnabled=true", "localSessionsUpgradingEnabled=true")
	}
	return cfg
}

// apacheProperties are the JVM system properties that carry serverConfig to
// Apache: the keys it reads only as properties (znode.container.*,
// readonlymode.enabled) or reads before zoo.cfg could set them.
func apacheProperties(o serverOpts) []string {
	props := []string{
		"zookeeper.4lw.commands.whitelist=*",
		"zookeeper.admin.enableServer=false",
		"zookeeper.extendedTypesEnabled=true",
		"znode.container.checkIntervalMs=1000",
		"zookeeper.DigestAuthenticationProvider.superDigest=" + superDigest,
	}
	if o.readOnly {
		props = append(props, "readonlymode.enabled=true")
	}
	return props
}

// zooCfg renders the zoo.cfg Apache reads.
func zooCfg(o serverOpts, dataDir string, port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tickTime=%d\n", o.tick().Milliseconds())
	fmt.Fprintf(&b, "dataDir=%s\n", dataDir)
	fmt.Fprintf(&b, "clientPort=%d\n", port)
	b.WriteString("clientPortAddress=127.0.0.1\n")
	for _, l := range serverConfig(o) {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func startApache(t *testing.T, o serverOpts) *target {
	t.Helper()
	java := requireJava(t)
	return startServer(t, "apache", o, func(cfg string) *exec.Cmd {
		args := []string{
			"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
			"-cp", strings.Join([]string{
				filepath.Join(javaDir, "zookeeper.jar"),
				filepath.Join(javaDir, "zookeeper-jute.jar"),
				filepath.Join(javaDir, "slf4j-api.jar"),
				filepath.Join(javaDir, "slf4j-simple.jar"),
			}, ":"),
		}
		for _, p := range apacheProperties(o) {
			args = append(args, "-D"+p)
		}
		return exec.Command(java, append(args, "org.apache.zookeeper.server.ZooKeeperServerMain", cfg)...)
	})
}

// startZkgo starts zkgo's cmd/zkserver with the zoo.cfg Apache gets and
// waits, on top of zkgoproc's srvr and session checks, for ruok as for Apache.
func startZkgo(t *testing.T, o serverOpts) *target {
	t.Helper()
	z := zkgoproc.Start(t, zkgoproc.Options{TickTime: o.tick(), Config: serverConfig(o), StartTimeout: serverStartTimeout})
	ctx, cancel := context.WithTimeout(context.Background(), serverStartTimeout)
	defer cancel()
	if err := ready(ctx, z.Addr()); err != nil {
		t.Fatalf("zkgo on %s not ready: %v\n--- server log (tail) ---\n%s", z.Addr(), err, z.LogTail(60))
	}
	t.Logf("zkgo server up on %s (pid %d)", z.Addr(), z.Pid())
	// Kill, as for Apache: the suites need no orderly shutdown.
	return &target{name: "zkgo", addr: z.Addr(), stop: z.Kill}
}

// ensembleSize is the number of voters of the ensemble targets.
const ensembleSize = 3

// startApacheEnsemble starts Apache ZooKeeper's QuorumPeerMain on ensembleSize
// voters with the settings of the standalone target.
func startApacheEnsemble(t *testing.T, o serverOpts) *target {
	t.Helper()
	requireJava(t)
	opts := apachezk.EnsembleOptions{
		Voters:     ensembleSize,
		TickTime:   o.ensembleTick(),
		Config:     serverConfig(o),
		Properties: apacheProperties(o),
		Heap:       "256m",
	}
	return startEnsemble(t, "apache-ensemble", func(dir string) (*ensemble.Ensemble, error) {
		e, err := apachezk.NewEnsemble(dir, opts)
		if err != nil {
			return nil, err
		}
		return e.Ensemble, nil
	})
}

// startZkgoEnsemble starts zkgo's cmd/zkserver on ensembleSize voters with
// the zoo.cfg lines the standalone zkgo target gets: like Apache's, real
// processes that a test kills by PID.
func startZkgoEnsemble(t *testing.T, o serverOpts) *target {
	t.Helper()
	opts := zkgoproc.EnsembleOptions{
		Voters:   ensembleSize,
		TickTime: o.ensembleTick(),
		Config:   serverConfig(o),
	}
	return startEnsemble(t, "zkgo-ensemble", func(dir string) (*ensemble.Ensemble, error) {
		return zkgoproc.NewEnsemble(t, dir, opts)
	})
}

// startEnsemble writes an ensemble's configuration with newEnsemble, starts
// every member and waits until they serve. Its ports were free when chosen,
// but a parallel test's connection may take one before the member binds
// it: then it starts over on other ports, as startServer does.
func startEnsemble(t *testing.T, name string, newEnsemble func(dir string) (*ensemble.Ensemble, error)) *target {
	t.Helper()
	for attempt := 1; ; attempt++ {
		e, err := newEnsemble(t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err = startMembers(e)
		if err == nil {
			t.Cleanup(func() {
				e.Close()
				if t.Failed() {
					for i := range e.Size() {
						t.Logf("%s server %d (%s) log tail:\n%s", name, i+1, e.Addr(i), e.LogTail(i, 40))
					}
				}
			})
			return ensembleTarget(t, name, e)
		}
		var logs strings.Builder
		for i := range e.Size() {
			fmt.Fprintf(&logs, "--- server %d (%s) log tail ---\n%s\n", i+1, e.Addr(i), e.LogTail(i, 40))
		}
		e.Close()
		if attempt < 3 && strings.Contains(strings.ToLower(err.Error()+logs.String()), "address already in use") {
			t.Logf("%s: a port was taken, starting over: %v", name, err)
			continue
		}
		t.Fatalf("start %s: %v\n%s", name, err, logs.String())
	}
}

// startMembers starts every member of e and waits until they serve.
func startMembers(e *ensemble.Ensemble) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*serverStartTimeout)
	defer cancel()
	for i := range e.Size() {
		if err := e.Start(ctx, i); err != nil {
			return err
		}
	}
	return e.WaitServing(ctx)
}

// ensembleTarget checks, as for a standalone server, that every member
// answers ruok and accepts a session, and returns the target.
func ensembleTarget(t *testing.T, name string, e *ensemble.Ensemble) *target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), serverStartTimeout)
	defer cancel()
	for i := range e.Size() {
		if err := ready(ctx, e.Addr(i)); err != nil {
			t.Fatalf("%s: server %d on %s not ready: %v", name, i+1, e.Addr(i), err)
		}
	}
	t.Logf("%s up on %s (leader: server %d)", name, e.ConnectString(), e.Leader()+1)
	return &target{name: name, addr: e.ConnectString(), stop: e.Close, members: e}
}

// addrs splits the connect string into the servers' addresses.
func (tg *target) addrs() []string { return strings.Split(tg.addr, ",") }

// member returns the index of the ensemble member whose client address is addr.
func (tg *target) member(t *testing.T, addr string) int {
	t.Helper()
	for i := range tg.members.Size() {
		if tg.members.Addr(i) == addr {
			return i
		}
	}
	t.Fatalf("%s: no member on %q (connect string %s)", tg.name, addr, tg.addr)
	return -1
}

// killMember kills ensemble member i (kill -9: a crash, as the standalone
// targets are stopped) and waits for it to exit.
func (tg *target) killMember(t *testing.T, i int) {
	t.Helper()
	if err := tg.members.Kill(i); err != nil {
		t.Fatalf("%s: kill server %d: %v", tg.name, i+1, err)
	}
	t.Logf("%s: killed server %d (%s)", tg.name, i+1, tg.members.Addr(i))
}

// startMember starts ensemble member i again on its data and returns once
// it answers on its client port (it may not serve yet).
func (tg *target) startMember(t *testing.T, i int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), serverStartTimeout)
	defer cancel()
	if err := tg.members.Start(ctx, i); err != nil {
		t.Fatalf("%s: start server %d: %v", tg.name, i+1, err)
	}
	t.Logf("%s: started server %d (%s)", tg.name, i+1, tg.members.Addr(i))
}

// waitServing waits until every running member serves and one leads.
func (tg *target) waitServing(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), serverStartTimeout)
	defer cancel()
	if err := tg.members.WaitServing(ctx); err != nil {
		t.Fatalf("%s: %v", tg.name, err)
	}
}

// startStopped starts the members a previous scenario left stopped and
// waits until every member serves.
func (tg *target) startStopped(t *testing.T) {
	t.Helper()
	for i := range tg.members.Size() {
		if !tg.members.Running(i) {
			tg.startMember(t, i)
		}
	}
	tg.waitServing(t)
}

// freePort returns a 127.0.0.1 TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer writes zoo.cfg, starts the process built by mkCmd and waits for `ruok`.
// It retries with another port when the chosen one was taken in the meantime.
func startServer(t *testing.T, name string, o serverOpts, mkCmd func(cfgPath string) *exec.Cmd) *target {
	t.Helper()
	for attempt := 1; ; attempt++ {
		tg, logText, err := tryStartServer(t, name, o, mkCmd)
		if err == nil {
			return tg
		}
		if attempt < 3 && strings.Contains(strings.ToLower(logText), "address already in use") {
			t.Logf("%s: port taken, retrying: %v", name, err)
			continue
		}
		t.Fatalf("start %s: %v\n--- server log (tail) ---\n%s", name, err, tail(logText, 60))
	}
}

func tryStartServer(t *testing.T, name string, o serverOpts, mkCmd func(string) *exec.Cmd) (*target, string, error) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		return nil, "", err
	}
	port := freePort(t)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(zooCfg(o, dataDir, port)), 0o644); err != nil {
		return nil, "", err
	}
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	defer logFile.Close() // the child holds its own descriptor
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }

	cmd := mkCmd(cfgPath)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Kill the server if the test binary dies without running its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { // owned by stop, which always waits for exited
		waitErr = cmd.Wait()
		close(exited)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	ctx, cancel := context.WithTimeout(context.Background(), serverStartTimeout)
	defer cancel()
	for {
		// ruok answers before Apache serves sessions, so also open (and close) one.
		lastErr := ready(ctx, addr)
		if lastErr == nil {
			break
		}
		select {
		case <-exited:
			return nil, readLog(), fmt.Errorf("%s exited before it was ready: %v", name, waitErr)
		case <-ctx.Done():
			stop()
			return nil, readLog(), fmt.Errorf("%s on %s not ready within %v: %w", name, addr, serverStartTimeout, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("--- %s server log %s (tail) ---\n%s", name, logPath, tail(readLog(), 80))
		}
	})
	t.Logf("%s server up on %s (pid %d)", name, addr, cmd.Process.Pid)
	return &target{name: name, addr: addr, stop: stop}, "", nil
}

// ready checks that the server answers ruok with imok and accepts a session.
func ready(ctx context.Context, addr string) error {
	out, err := fourLetter(ctx, addr, "ruok")
	if err != nil {
		return fmt.Errorf("ruok: %w", err)
	}
	if out != "imok" {
		return fmt.Errorf("ruok answered %q, want imok", out)
	}
	if err := handshake(ctx, addr); err != nil {
		return fmt.Errorf("session handshake: %w", err)
	}
	return nil
}

// fourLetter sends a four letter word and returns the whole answer.
func fourLetter(ctx context.Context, addr, word string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := io.WriteString(c, word); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// handshake opens a session with a raw ConnectRequest and closes it again,
// proving the server serves clients, not only four letter words.
func handshake(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	// ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly.
	req := binary.BigEndian.AppendUint32(nil, 0)
	req = binary.BigEndian.AppendUint64(req, 0)
	req = binary.BigEndian.AppendUint32(req, 10000)
	req = binary.BigEndian.AppendUint64(req, 0)
	req = binary.BigEndian.AppendUint32(req, 16)
	req = append(req, make([]byte, 16)...)
	req = append(req, 0)
	if _, err := c.Write(binary.BigEndian.AppendUint32(nil, uint32(len(req)))); err != nil {
		return err
	}
	if _, err := c.Write(req); err != nil {
		return err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 16 || n > 1024 {
		return fmt.Errorf("connect response of %d bytes", n)
	}
	resp := make([]byte, n)
	if _, err := io.ReadFull(c, resp); err != nil {
		return err
	}
	timeout := int32(binary.BigEndian.Uint32(resp[4:8]))
	session := binary.BigEndian.Uint64(resp[8:16])
	if timeout <= 0 || session == 0 {
		return fmt.Errorf("connect refused: timeout %d session %#x", timeout, session)
	}
	// closeSession: header xid 1, type -11, no body; wait for its reply.
	closeReq := binary.BigEndian.AppendUint32(nil, 8)
	closeReq = binary.BigEndian.AppendUint32(closeReq, 1)
	closeReq = binary.BigEndian.AppendUint32(closeReq, uint32(0xFFFFFFF5))
	if _, err := c.Write(closeReq); err != nil {
		return err
	}
	_, err = io.ReadFull(c, hdr[:])
	return err
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runTool runs a client program with a deadline and returns its combined output,
// failing t with that output when the program fails or runs out of time.
func runTool(t *testing.T, timeout time.Duration, stdin string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out // one pipe: stdout and stderr lines keep their order
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: no result within %v\n%s", name, strings.Join(args, " "), timeout, out.String())
	}
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	t.Logf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return out.String()
}

// proxy forwards TCP connections to a server and can cut them, to make a
// client lose its connection (and, if long enough, its session) on demand.
type proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	blocked bool                  // guarded by mu: refuse traffic while set
	conns   map[net.Conn]struct{} // guarded by mu: both sides of live links
	wg      sync.WaitGroup        // accept loop and copiers
}

// startProxy listens on a free port and forwards to target until the test ends.
func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		blocked := p.blocked
		p.mu.Unlock()
		if blocked {
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.blocked || p.conns == nil {
			p.mu.Unlock()
			c.Close()
			up.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.conns[up] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	if p.conns != nil {
		delete(p.conns, dst)
		delete(p.conns, src)
	}
	p.mu.Unlock()
}

// block closes every link and refuses new ones until unblock.
func (p *proxy) block() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) unblock() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = false
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
