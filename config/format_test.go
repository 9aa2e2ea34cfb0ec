package config

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFormatConfStandalone(t *testing.T) {
	c := mustParse(t, "tickTime=2000\ndataDir=/tmp/zk/data\nclientPort=21810\n")
	got := c.FormatConf(ConfStatus{SnapDir: "/tmp/zk/data/version-2", LogDir: "/tmp/zk/data/version-2", DataDirSize: 457, DataLogSize: 457})
	// As answered by Apache ZooKeeper 3.8.0 for the same zoo.cfg.
	want := "clientPort=21810\nsecureClientPort=-1\ndataDir=/tmp/zk/data/version-2\ndataDirSize=457\n" +
		"dataLogDir=/tmp/zk/data/version-2\ndataLogSize=457\ntickTime=2000\nmaxClientCnxns=60\n" +
		"minSessionTimeout=4000\nmaxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=0\n"
	if got != want {
		t.Errorf("FormatConf =\n%q\nwant\n%q", got, want)
	}
}

func TestFormatConfEnsemble(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"zoo.cfg": "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={dir}/data\nclientPort=24811\nstandaloneEnabled=false\n" +
			"server.1=127.0.0.1:24888:24889\nserver.2=127.0.0.1:24890:24891:observer;24812\n",
		"data/myid": "1",
	})
	c, err := Load(filepath.Join(dir, "zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	got := c.FormatConf(ConfStatus{SnapDir: "/s", LogDir: "/l", DataDirSize: 565, DataLogSize: 565})
	// As answered by Apache ZooKeeper 3.8.0 (QuorumPeerMain) for the same files.
	want := "clientPort=24811\nsecureClientPort=-1\ndataDir=/s\ndataDirSize=565\ndataLogDir=/l\ndataLogSize=565\n" +
		"tickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\n" +
		"clientPortListenBacklog=-1\nserverId=1\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\n" +
		"electionPort=24889\nquorumPort=24888\npeerType=0\nmembership: \n" +
		"server.1=127.0.0.1:24888:24889:participant\nserver.2=127.0.0.1:24890:24891:observer;0.0.0.0:24812\nversion=0"
	if got != want {
		t.Errorf("FormatConf =\n%q\nwant\n%q", got, want)
	}
	if m := c.Membership(0x100000000); !strings.HasSuffix(m, "\nversion=100000000") {
		t.Errorf("Membership(0x100000000) = %q", m)
	}
}

func TestFormatConfDefaultsPaths(t *testing.T) {
	c := mustParse(t, "dataDir=rel/data\ndataLogDir=/abs/log\n")
	got := c.FormatConf(ConfStatus{ClientPort: 40000})
	abs, _ := filepath.Abs("rel/data")
	for _, line := range []string{"clientPort=40000\n", "dataDir=" + abs + "\n", "dataLogDir=/abs/log\n", "tickTime=3000\n"} {
		if !strings.Contains(got, line) {
			t.Errorf("FormatConf = %q, want a line %q", got, line)
		}
	}
}

// TestFormatConfMatchesApache starts Apache ZooKeeper 3.8 with the same zoo.cfg
// and compares its conf answer with FormatConf, taking only the directory
// sizes from Apache's answer.
func TestFormatConfMatchesApache(t *testing.T) {
	cases := []struct {
		name, main, cfg, myid string
		version               int64
	}{
		{"standalone", "org.apache.zookeeper.server.ZooKeeperServerMain",
			"tickTime=1500\ndataDir={dir}/data\ndataLogDir={dir}/log\nclientPort={port}\nmaxClientCnxns=7\nminSessionTimeout=3100\nmaxSessionTimeout=50000\n", "", 0},
		{"ensemble", "org.apache.zookeeper.server.quorum.QuorumPeerMain",
			"tickTime=2000\ninitLimit=9\nsyncLimit=4\ndataDir={dir}/data\nclientPort={port}\nstandaloneEnabled=false\n" +
				"server.1=127.0.0.1:{port2}:{port3}\nserver.2=127.0.0.1:{port4}:{port5}:observer;{port6}\n", "1", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			java := lookTool(t, "java")
			dir := t.TempDir()
			cfg := strings.ReplaceAll(tc.cfg, "{dir}", dir)
			cfg = strings.ReplaceAll(cfg, "{port}", strconv.Itoa(freePort(t)))
			for i := 2; i <= 6; i++ {
				cfg = strings.ReplaceAll(cfg, fmt.Sprintf("{port%d}", i), strconv.Itoa(freePort(t)))
			}
			if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.myid != "" {
				if err := os.WriteFile(filepath.Join(dir, "data", "myid"), []byte(tc.myid), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfgPath := filepath.Join(dir, "zoo.cfg")
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := Load(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			addr := "127.0.0.1:" + strconv.Itoa(c.ClientPort)
			apache := startApache(t, java, tc.main, cfgPath, addr)
			got := c.FormatConf(ConfStatus{
				SnapDir:       filepath.Join(dir, "data", "version-2"),
				LogDir:        filepath.Join(c.TxnLogDir(), "version-2"),
				DataDirSize:   confNumber(t, apache, "dataDirSize"),
				DataLogSize:   confNumber(t, apache, "dataLogSize"),
				ConfigVersion: tc.version,
			})
			if got != apache {
				t.Errorf("FormatConf =\n%s\nApache conf =\n%s", got, apache)
			}
		})
	}
}

func confNumber(t *testing.T, conf, key string) int64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + key + `=(\d+)$`).FindStringSubmatch(conf)
	if m == nil {
		t.Fatalf("no %s in Apache conf answer %q", key, conf)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		t.Fatalf("%s in Apache conf answer: %v", key, err)
	}
	return n
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startApache runs Apache ZooKeeper with every 4lw enabled until the test
// ends and returns its answer to conf once it serves requests.
func startApache(t *testing.T, java, mainClass, cfgPath, addr string) string {
	t.Helper()
	var cp []string
	for _, jar := range []string{"zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-simple"} {
		p := "/usr/share/java/" + jar + ".jar"
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("ZKGO_INTEROP_REQUIRED") == "1" {
				t.Fatalf("%s missing (Debian packages zookeeper, libzookeeper-java)", p)
			}
			t.Skipf("%s missing (install the Debian packages zookeeper, libzookeeper-java)", p)
		}
		cp = append(cp, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, java, "-cp", strings.Join(cp, ":"),
		"-Dzookeeper.4lw.commands.whitelist=*", "-Dzookeeper.admin.enableServer=false", mainClass, cfgPath)
	logPath := filepath.Join(filepath.Dir(cfgPath), "apache.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cancel()
		logf.Close()
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := fourLetter(addr, "conf")
		if err == nil && strings.HasPrefix(out, "clientPort=") && (!strings.Contains(mainClass, "quorum") || strings.Contains(out, "version=")) {
			return out
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("Apache ZooKeeper did not answer conf on %s (last: %q, %v)\n%s", addr, out, err, log)
		}
		time.Sleep(100 * time.Millisecond) // polling a server we do not control
	}
}

func fourLetter(addr, word string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte(word)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(conn)
	return string(b), err
}
