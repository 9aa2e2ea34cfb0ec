package server_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/zktest"
)

// Formats below were read off Apache ZooKeeper 3.8.0 (Debian) answering the
// same words with two kazoo clients connected; TestFourLetterDifferential
// checks them against a live Apache server when Java is installed.

// askWord sends a four-letter word (plus extra bytes) and returns the whole
// answer, read until the server closes.
func askWord(t *testing.T, addr, word string, extra []byte) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(append([]byte(word), extra...)); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(nc)
	if err != nil {
		t.Fatalf("%q: %v", word, err)
	}
	return string(out)
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// wordClients connects two go-zookeeper clients to addr and leaves the state
// the tests expect: /app with /app/x and two ephemerals of client a, an
// ephemeral /b_eph of client b, and watches a: data /app/x, exists
// /nonexist, children /app; b: data /app/x, children /. The 30 s session
// timeout keeps the clients from pinging during the test.
func wordClients(t *testing.T, addr string) (a, b *zk.Conn) {
	t.Helper()
	dial := func() *zk.Conn {
		c, events, err := zk.Connect([]string{addr}, 30*time.Second, zk.WithLogger(quietLogger{}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		deadline := time.After(20 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev.State == zk.StateHasSession {
					return c
				}
			case <-deadline:
				t.Fatalf("no session on %s within 20s", addr)
			}
		}
	}
	a, b = dial(), dial()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	acl := zk.WorldACL(zk.PermAll)
	must(a.Create("/app", nil, 0, acl))
	must(a.Create("/app/x", []byte("data"), 0, acl))
	must(a.Create("/app/e1", []byte("v"), zk.FlagEphemeral, acl))
	must(a.Create("/app/e2", []byte("v"), zk.FlagEphemeral, acl))
	must(b.Create("/b_eph", nil, zk.FlagEphemeral, acl))
	_, _, _, err := a.GetW("/app/x")
	must(nil, err)
	_, _, _, err = a.ChildrenW("/app")
	must(nil, err)
	_, _, _, err = a.ExistsW("/nonexist")
	must(nil, err)
	_, _, _, err = b.GetW("/app/x")
	must(nil, err)
	_, _, _, err = b.ChildrenW("/")
	must(nil, err)
	return a, b
}

// linePat matches between min and max consecutive lines.
type linePat struct {
	re       *regexp.Regexp
	min, max int
}

func one(re string) linePat { return linePat{regexp.MustCompile("^" + re + "$"), 1, 1} }

func repeat(re string, min, max int) linePat {
	return linePat{regexp.MustCompile("^" + re + "$"), min, max}
}

// checkLines matches got, which must end with a newline, line by line.
func checkLines(t *testing.T, word, got string, pats ...linePat) {
	t.Helper()
	if !strings.HasSuffix(got, "\n") {
		t.Errorf("%s: answer does not end with a newline: %q", word, got)
		return
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	i := 0
	for _, p := range pats {
		n := 0
		for n < p.max && i < len(lines) && p.re.MatchString(lines[i]) {
			n++
			i++
		}
		if n < p.min {
			at := "<end>"
			if i < len(lines) {
				at = strconv.Quote(lines[i])
			}
			t.Errorf("%s: line %d is %s, want %d× %s\nanswer:\n%s", word, i+1, at, p.min, p.re, got)
			return
		}
	}
	if i != len(lines) {
		t.Errorf("%s: unexpected line %d %q\nanswer:\n%s", word, i+1, lines[i], got)
	}
}

const (
	reVersion = `Zookeeper version: 3\.8\.0-[^,]+, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC`
	reAddr    = `/127\.0\.0\.1:\d+`
	reHex     = `0x[0-9a-f]+`
	reDate    = `[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}`
	// reConsFull is a session connection in cons (ServerCnxn.dumpConnectionInfo).
	reConsFull = ` ` + reAddr + `\[[15]\]\(queued=\d+,recved=\d+,sent=\d+,sid=` + reHex +
		`,lop=[A-Za-z]+,est=\d+,to=\d+(,lcxid=` + reHex + `)?,lzxid=` + reHex +
		`,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)`
	// reWordConn is the connection asking the word: no interest ops, one packet.
	reWordConn = ` ` + reAddr + `\[0\]\(queued=0,recved=1,sent=0\)`
)

// statTail is the part srvr and stat share after the version (and clients).
func statTail(conns int) []linePat {
	return []linePat{
		one(`Latency min/avg/max: \d+/\d+\.\d+/\d+`),
		one(`Received: \d+`),
		one(`Sent: \d+`),
		one(fmt.Sprintf(`Connections: %d`, conns)),
		one(`Outstanding: 0`),
		one(`Zxid: ` + reHex),
		one(`Mode: standalone`),
		one(`Node count: 10`),
	}
}

func TestFourLetterFormats(t *testing.T) {
	srv := zktest.Start(t)
	addr := srv.Addr()
	a, b := wordClients(t, addr)
	ask := func(w string) string { return askWord(t, addr, w, nil) }

	if got := ask("ruok"); got != "imok" {
		t.Errorf("ruok: %q", got)
	}
	if got := ask("isro"); got != "rw" {
		t.Errorf("isro: %q", got)
	}
	if got := ask("hash"); got != "" {
		t.Errorf("hash: %q", got)
	}

	srvr := ask("srvr")
	checkLines(t, "srvr", srvr, append([]linePat{one(reVersion)}, statTail(3)...)...)
	// zktop's version regex and zkServer.sh status's grep.
	if m := regexp.MustCompile(`.*: (\d+\.\d+\.\d+)-.*`).FindStringSubmatch(strings.SplitN(srvr, "\n", 2)[0]); m == nil || m[1] != "3.8.0" {
		t.Errorf("zktop cannot read the version from %q", srvr)
	}

	checkLines(t, "stat", ask("stat"), append([]linePat{
		one(reVersion),
		one(`Clients:`),
		repeat(` `+reAddr+`\[[015]\]\(queued=\d+,recved=\d+,sent=\d+\)`, 3, 3),
		one(``),
	}, statTail(3)...)...)

	cons := ask("cons")
	checkLines(t, "cons", cons, repeat(`(`+reConsFull+`|`+reWordConn+`)`, 3, 3), one(``))
	for _, c := range []*zk.Conn{a, b} {
		re := regexp.MustCompile(fmt.Sprintf(`sid=0x%x,lop=[A-Z]+,est=\d+,to=30000,lcxid=0x`, uint64(c.SessionID())))
		if !re.MatchString(cons) {
			t.Errorf("cons: no line for session 0x%x with its timeout and last cxid:\n%s", uint64(c.SessionID()), cons)
		}
	}
	if n := len(regexp.MustCompile(reWordConn).FindAllString(cons, -1)); n != 1 {
		t.Errorf("cons lists %d four-letter-word connections, want 1:\n%s", n, cons)
	}

	conf := ask("conf")
	_, port, _ := net.SplitHostPort(addr)
	checkLines(t, "conf", conf,
		one(`clientPort=`+port), one(`secureClientPort=-1`),
		one(`dataDir=/.+`), one(`dataDirSize=\d+`), one(`dataLogDir=/.+`), one(`dataLogSize=\d+`),
		one(`tickTime=2000`), one(`maxClientCnxns=60`),
		one(`minSessionTimeout=4000`), one(`maxSessionTimeout=40000`),
		one(`clientPortListenBacklog=-1`), one(`serverId=0`))

	checkLines(t, "envi", ask("envi"), one(`Environment:`),
		one(`zookeeper\.version=3\.8\.0-.+, built on .+`), one(`host\.name=.+`),
		one(`java\.version=.+`), one(`java\.vendor=.+`), one(`java\.home=.+`),
		one(`java\.class\.path=.+`), one(`java\.library\.path=.+`), one(`java\.io\.tmpdir=.+`),
		one(`java\.compiler=.+`), one(`os\.name=.+`), one(`os\.arch=.+`), one(`os\.version=.+`),
		one(`user\.name=.+`), one(`user\.home=.+`), one(`user\.dir=.+`),
		one(`os\.memory\.free=\d+MB`), one(`os\.memory\.max=\d+MB`), one(`os\.memory\.total=\d+MB`))

	// Apache's wchs/wchc/wchp show the data watches (getData, exists) only.
	if got := ask("wchs"); got != "2 connections watching 2 paths\nTotal watches:3\n" {
		t.Errorf("wchs: %q", got)
	}
	sa, sb := fmt.Sprintf("0x%x", uint64(a.SessionID())), fmt.Sprintf("0x%x", uint64(b.SessionID()))
	wchc := ask("wchc")
	checkLines(t, "wchc", wchc, one(reHex), repeat("\t/.*", 1, 2), one(reHex), repeat("\t/.*", 1, 2), one(``))
	for _, want := range []string{sa + "\n\t/app/x\n\t/nonexist\n", sb + "\n\t/app/x\n"} {
		if !strings.Contains(wchc, want) {
			t.Errorf("wchc lacks %q:\n%s", want, wchc)
		}
	}
	wchp := ask("wchp")
	ids := []string{sa, sb}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	wantA := "/app/x\n\t" + strings.Join(ids, "\n\t") + "\n"
	if !strings.Contains(wchp, wantA) || !strings.Contains(wchp, "/nonexist\n\t"+sa+"\n") {
		t.Errorf("wchp: %q", wchp)
	}
	checkLines(t, "wchp", wchp, one(`/app/x`), repeat("\t"+reHex, 2, 2), one(`/nonexist`), one("\t"+reHex), one(``))

	dump := ask("dump")
	checkLines(t, "dump", dump,
		one(`SessionTracker dump:`),
		one(`Session Sets \(\d+\)/\(2\):`),
		repeat(`(\d+ expire at `+reDate+`:|\t`+reHex+`)`, 2, 4),
		one(`ephemeral nodes dump:`),
		one(`Sessions with Ephemerals \(2\):`),
		repeat(`(`+reHex+`:|\t/.*)`, 5, 5),
		one(`Connections dump:`),
		one(`Connections Sets \(\d+\)/\(3\):`),
		repeat(`(\d+ expire at `+reDate+`:|\tip: `+reAddr+` sessionId: `+reHex+`)`, 4, 6))
	for _, want := range []string{sa + ":\n\t/app/e1\n\t/app/e2\n", sb + ":\n\t/b_eph\n", "sessionId: 0x0\n"} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}

	checkLines(t, "dirs", ask("dirs"), one(`datadir_size: \d+`), one(`logdir_size: \d+`))

	mntr := ask("mntr")
	keys, values := parseMntr(t, mntr)
	if len(keys) != 485 {
		t.Errorf("mntr has %d keys, want Apache 3.8 standalone's 485", len(keys))
	}
	for k, want := range map[string]string{
		"zk_server_state": "standalone", "zk_num_alive_connections": "3", "zk_outstanding_requests": "0",
		"zk_znode_count": "10", "zk_watch_count": "5", "zk_ephemerals_count": "3",
		"zk_global_sessions": "2", "zk_local_sessions": "0",
	} {
		if values[k] != want {
			t.Errorf("mntr %s = %q, want %q", k, values[k], want)
		}
	}
	if keys[0] != "zk_version" || !strings.HasPrefix(values["zk_version"], "3.8.0-") {
		t.Errorf("mntr starts with %s %q", keys[0], values[keys[0]])
	}
	isInt := regexp.MustCompile(`^-?\d+$`)
	isDouble := regexp.MustCompile(`^-?\d+\.\d+(E-?\d+)?$`)
	for _, k := range keys[2:] {
		double := k == "zk_avg_latency" || k == "zk_connection_drop_probability" || strings.HasPrefix(k, "zk_avg_")
		if double && !isDouble.MatchString(values[k]) || !double && !isInt.MatchString(values[k]) {
			t.Errorf("mntr %s = %q: not the number type Apache prints", k, values[k])
		}
	}

	if got := ask("gtmk"); got != "306" {
		t.Errorf("gtmk: %q", got)
	}
	mask := binary.BigEndian.AppendUint64(nil, 255)
	if got := askWord(t, addr, "stmk", mask); got != "255" {
		t.Errorf("stmk: %q", got)
	}
	if got := ask("gtmk"); got != "255" {
		t.Errorf("gtmk after stmk: %q", got)
	}
	// Without its 8-byte mask stmk is a failed read: no answer.
	if got := askWord(t, addr, "stmk", []byte{0, 0}); got != "" {
		t.Errorf("short stmk: %q", got)
	}

	if got := ask("crst"); got != "Connection stats reset.\n" {
		t.Errorf("crst: %q", got)
	}
	reset := ` ` + reAddr + `\[1\]\(queued=0,recved=0,sent=0,sid=` + reHex +
		`,lop=NA,est=\d+,to=30000,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0\)`
	checkLines(t, "cons after crst", ask("cons"), repeat(`(`+reset+`|`+reWordConn+`)`, 3, 3), one(``))

	if got := ask("srst"); got != "Server stats reset.\n" {
		t.Errorf("srst: %q", got)
	}
	// The srvr itself is the one packet received since the reset.
	checkLines(t, "srvr after srst", ask("srvr"), one(reVersion),
		one(`Latency min/avg/max: 0/0\.0/0`), one(`Received: 1`), one(`Sent: 0`),
		one(`Connections: 3`), one(`Outstanding: 0`), one(`Zxid: `+reHex), one(`Mode: standalone`),
		one(`Node count: 10`))
}

// parseMntr checks mntr's "zk_<key>\t<value>" lines (what telegraf and
// metricbeat split on) and returns the keys in order and the values.
func parseMntr(t *testing.T, mntr string) ([]string, map[string]string) {
	t.Helper()
	if !strings.HasSuffix(mntr, "\n") {
		t.Fatalf("mntr does not end with a newline: %q", mntr)
	}
	var keys []string
	values := map[string]string{}
	line := regexp.MustCompile(`^zk_[a-z0-9_]+\t[^\t]+$`)
	for _, l := range strings.Split(strings.TrimSuffix(mntr, "\n"), "\n") {
		if !line.MatchString(l) {
			t.Errorf("mntr line %q is not zk_<key>\\t<value>", l)
			continue
		}
		k, v, _ := strings.Cut(l, "\t")
		if _, dup := values[k]; dup {
			t.Errorf("mntr repeats %s", k)
		}
		keys = append(keys, k)
		values[k] = v
	}
	return keys, values
}

func TestFourLetterWhitelistDefault(t *testing.T) {
	srv := zktest.Start(t, zktest.WithConfig(func(c *config.Config) { c.FourLetterWhitelist = config.WordSet{"srvr": {}} }))
	for _, w := range config.FourLetterWords() {
		got := askWord(t, srv.Addr(), w, nil)
		if w == "srvr" {
			if !strings.Contains(got, "\nMode: standalone\n") {
				t.Errorf("srvr is always enabled; got %q", got)
			}
			continue
		}
		if want := w + " is not executed because it is not in the whitelist.\n"; got != want {
			t.Errorf("%s: got %q, want %q", w, got, want)
		}
	}
	if got, want := askWord(t, srv.Addr(), "\xff\xf4\xff\xfd", nil), "telnet close is not executed because it is not in the whitelist.\n"; got != want {
		t.Errorf("telnet close: got %q, want %q", got, want)
	}
}

func TestFourLetterWhitelistList(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader("dataDir=/x\n4lw.commands.whitelist=ruok,stat\n"), "zoo.cfg")
	if err != nil {
		t.Fatal(err)
	}
	srv := zktest.Start(t, zktest.WithConfig(func(c *config.Config) { c.FourLetterWhitelist = cfg.FourLetterWhitelist }))
	if got := askWord(t, srv.Addr(), "ruok", nil); got != "imok" {
		t.Errorf("ruok: %q", got)
	}
	if got := askWord(t, srv.Addr(), "stat", nil); !strings.Contains(got, "Clients:\n") {
		t.Errorf("stat: %q", got)
	}
	if got := askWord(t, srv.Addr(), "srvr", nil); !strings.Contains(got, "Mode: standalone") {
		t.Errorf("srvr: %q", got)
	}
	if got := askWord(t, srv.Addr(), "mntr", nil); got != "mntr is not executed because it is not in the whitelist.\n" {
		t.Errorf("mntr: %q", got)
	}
}

func TestFourLetterWhitelistAll(t *testing.T) {
	srv := zktest.Start(t) // zktest enables every word ("*")
	for _, w := range config.FourLetterWords() {
		var extra []byte
		if w == "stmk" {
			extra = binary.BigEndian.AppendUint64(nil, 306)
		}
		if got := askWord(t, srv.Addr(), w, extra); strings.Contains(got, "not in the whitelist") {
			t.Errorf("%s refused under *: %q", w, got)
		}
	}
	// Enabled, "telnet close" is a bad length: the connection just closes.
	if got := askWord(t, srv.Addr(), "\xff\xf4\xff\xfd", nil); got != "" {
		t.Errorf("telnet close: %q", got)
	}
}

// --- differential: the same words from Apache ZooKeeper 3.8 and zkgo ---

var apacheJars = []string{
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/slf4j-api.jar",
	"/usr/share/java/slf4j-simple.jar",
}

// startApache runs Apache ZooKeeper standalone on a free 127.0.0.1 port with
// every word enabled, and returns its client address. The process is killed
// by PID when the test ends.
func startApache(t *testing.T) string {
	t.Helper()
	java, err := exec.LookPath("java")
	missing := []string{}
	if err != nil {
		missing = append(missing, "java (Debian package openjdk-17-jre-headless)")
	}
	for _, j := range apacheJars {
		if _, err := os.Stat(j); err != nil {
			missing = append(missing, j+" (Debian packages zookeeper, libzookeeper-java, libslf4j-java)")
		}
	}
	if len(missing) > 0 {
		msg := "differential four-letter-word test needs " + strings.Join(missing, ", ")
		if os.Getenv("ZKGO_INTEROP_REQUIRED") == "1" {
			t.Fatal(msg + " and ZKGO_INTEROP_REQUIRED=1")
		}
		t.Skip(msg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	cfg := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\n", filepath.Join(dir, "data"), port)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(java, "-cp", strings.Join(apacheJars, ":"), "-Xmx256m",
		"-Dzookeeper.4lw.commands.whitelist=*", "-Dzookeeper.admin.enableServer=false",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
		"org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("Apache log:\n%s", b)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		if answer, err := tryWord(addr, "ruok"); err == nil && answer == "imok" {
			return addr
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Apache ZooKeeper did not answer ruok on %s within 60s", addr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func tryWord(addr, word string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(nc, word); err != nil {
		return "", err
	}
	b, err := io.ReadAll(nc)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return string(b), nil
}

// wordRun is one word of the differential script and how to compare it.
type wordRun struct {
	label, word string
	extra       []byte
	compare     func(t *testing.T, label, apache, zkgo string)
}

func TestFourLetterDifferential(t *testing.T) {
	apacheAddr := startApache(t)
	zkgoAddr := zktest.Start(t).Addr()

	mask := binary.BigEndian.AppendUint64(nil, 255)
	script := []wordRun{
		{"ruok", "ruok", nil, sameText},
		{"isro", "isro", nil, sameText},
		{"hash", "hash", nil, sameText},
		{"gtmk", "gtmk", nil, sameText},
		{"srvr", "srvr", nil, sameStat},
		{"stat", "stat", nil, sameStat},
		{"cons", "cons", nil, sameLineSet},
		{"conf", "conf", nil, sameKeys},
		{"envi", "envi", nil, sameKeys},
		{"wchs", "wchs", nil, sameText},
		{"wchc", "wchc", nil, sameLineSet},
		{"wchp", "wchp", nil, sameLineSet},
		{"dump", "dump", nil, sameDump},
		{"dirs", "dirs", nil, sameLines},
		{"mntr", "mntr", nil, sameMntr},
		{"stmk", "stmk", mask, sameText},
		{"gtmk after stmk", "gtmk", nil, sameText},
		{"crst", "crst", nil, sameText},
		{"cons after crst", "cons", nil, sameLineSet},
		{"srst", "srst", nil, sameText},
		{"srvr after srst", "srvr", nil, sameStat},
	}
	answers := func(addr string) []string {
		wordClients(t, addr)
		out := make([]string, len(script))
		for i, r := range script {
			out[i] = askWord(t, addr, r.word, r.extra)
		}
		return out
	}
	apache, zkgo := answers(apacheAddr), answers(zkgoAddr)
	for i, r := range script {
		r.compare(t, r.label, apache[i], zkgo[i])
	}
}

func sameText(t *testing.T, label, apache, zkgo string) {
	t.Helper()
	if apache != zkgo {
		t.Errorf("%s: Apache %q, zkgo %q", label, apache, zkgo)
	}
}

var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^Zookeeper version: .*`), "Zookeeper version: V"},
	{regexp.MustCompile(`[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}`), "DATE"},
	{regexp.MustCompile(`0x[0-9a-f]+`), "0xH"},
	{regexp.MustCompile(`lop=[A-Za-z]+`), "lop=OP"},
	{regexp.MustCompile(`/\d+\.\d+\.\d+\.\d+:\d+`), "/ADDR"},
	{regexp.MustCompile(`-?\d+\.\d+(E-?\d+)?`), "F"},
	{regexp.MustCompile(`-?\d+`), "N"},
}

// normalize replaces the values that legitimately differ between two
// servers (versions, times, ids, addresses, counts) by placeholders.
func normalize(line string) string {
	for _, n := range normalizers {
		line = n.re.ReplaceAllString(line, n.with)
	}
	return line
}

func normalizedLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		out = append(out, normalize(l))
	}
	return out
}

// sameLines compares the normalized lines in order.
func sameLines(t *testing.T, label, apache, zkgo string) {
	t.Helper()
	a, z := normalizedLines(apache), normalizedLines(zkgo)
	if strings.Join(a, "\n") != strings.Join(z, "\n") {
		t.Errorf("%s: line structure differs\nApache:\n%s\nzkgo:\n%s", label, apache, zkgo)
	}
}

// sameStat compares srvr/stat: the line structure, and the values both
// servers must agree on after the same requests.
func sameStat(t *testing.T, label, apache, zkgo string) {
	t.Helper()
	sameLineSet(t, label, apache, zkgo)
	exact := regexp.MustCompile(`(?m)^(Connections|Outstanding|Zxid|Mode|Node count): .*$`)
	if a, z := exact.FindAllString(apache, -1), exact.FindAllString(zkgo, -1); strings.Join(a, "\n") != strings.Join(z, "\n") {
		t.Errorf("%s: Apache says %q, zkgo %q", label, a, z)
	}
}

// sameLineSet compares the normalized lines as multisets: connections and
// watchers come in hash order in Apache.
func sameLineSet(t *testing.T, label, apache, zkgo string) {
	t.Helper()
	a, z := normalizedLines(apache), normalizedLines(zkgo)
	sort.Strings(a)
	sort.Strings(z)
	if strings.Join(a, "\n") != strings.Join(z, "\n") {
		t.Errorf("%s: lines differ\nApache:\n%s\nzkgo:\n%s", label, apache, zkgo)
	}
}

// sameDump compares dump's distinct normalized lines. Apache keeps empty
// expiry buckets ("0 expire at") and groups elements by its own clock, so
// only the kinds of lines, not their number, are comparable.
func sameDump(t *testing.T, label, apache, zkgo string) {
	t.Helper()
	set := func(s string) string {
		seen := map[string]bool{}
		for _, l := range normalizedLines(s) {
			seen[l] = true
		}
		return strings.Join(slices.Sorted(maps.Keys(seen)), "\n")
	}
	empty := regexp.MustCompile(`(?m)^0 expire at .*\n`)
	if a, z := set(empty.ReplaceAllString(apache, "")), set(zkgo); a != z {
		t.Errorf("%s: line kinds differ\nApache:\n%s\nzkgo:\n%s", label, apache, zkgo)
	}
	ephemerals := regexp.MustCompile(`(?m)^\t/.*$`)
	a, z := ephemerals.FindAllString(apache, -1), ephemerals.FindAllString(zkgo, -1)
	sort.Strings(a)
	sort.Strings(z)
	if strings.Join(a, ",") != strings.Join(z, ",") {
		t.Errorf("%s: ephemerals differ: Apache %q, zkgo %q", label, a, z)
	}
}

// sameKeys compares "key=value" answers (conf, envi) by their keys, in order.
func sameKeys(t *testing.T, label, apache, zkgo string) {
	t.Helper()
	keys := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			k, _, _ := strings.Cut(l, "=")
			out = append(out, k)
		}
		return strings.Join(out, "\n")
	}
	if a, z := keys(apache), keys(zkgo); a != z {
		t.Errorf("%s: keys differ\nApache:\n%s\nzkgo:\n%s", label, a, z)
	}
}

// sameMntr compares mntr: the same keys in the same order (except Apache's
// per-namespace summaries, which zkgo does not keep), values of the same
// type, and equal values for what both must agree on.
func sameMntr(t *testing.T, label, apache, zkgo string) {
	t.Helper()
	ak, av := parseMntr(t, apache)
	zkeys, zv := parseMntr(t, zkgo)
	var kept []string
	for _, k := range ak {
		if !strings.HasSuffix(k, "_per_namespace") {
			kept = append(kept, k)
		}
	}
	if strings.Join(kept, "\n") != strings.Join(zkeys, "\n") {
		t.Errorf("%s: keys differ\nApache:\n%s\nzkgo:\n%s", label, strings.Join(kept, "\n"), strings.Join(zkeys, "\n"))
	}
	for _, k := range kept[1:] {
		if normalize(av[k]) != normalize(zv[k]) {
			t.Errorf("%s: %s is %q on Apache, %q on zkgo", label, k, av[k], zv[k])
		}
	}
	for _, k := range []string{"zk_server_state", "zk_num_alive_connections", "zk_outstanding_requests",
		"zk_znode_count", "zk_watch_count", "zk_ephemerals_count", "zk_approximate_data_size",
		"zk_global_sessions", "zk_local_sessions"} {
		if av[k] != zv[k] {
			t.Errorf("%s: %s is %q on Apache, %q on zkgo", label, k, av[k], zv[k])
		}
	}
}
