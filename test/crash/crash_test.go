// Package crash kills a zkgo server with SIGKILL in the middle of a stream of
// writes and checks, after a restart, that every acknowledged write survived
// and that no refused write took effect.
package crash

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "zkserver")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/zkserver")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building zkserver: %v\n%s", err, out)
	}
	return bin
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

// proc is a started zkserver process.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// signal sends sig to the process (by its PID) and waits for it to exit.
func (p *proc) signal(sig syscall.Signal) {
	p.cmd.Process.Signal(sig)
	<-p.exited
}

// startServer starts zkserver and waits until it answers ruok.
func startServer(t *testing.T, bin, cfg, addr string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "start-foreground", "--config", cfg)
	logf, err := os.OpenFile(cfg+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			log, _ := os.ReadFile(cfg + ".log")
			t.Fatalf("zkserver exited during start:\n%s", log)
		default:
		}
		if nc, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			nc.Write([]byte("ruok"))
			buf := make([]byte, 4)
			nc.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := nc.Read(buf)
			nc.Close()
			if string(buf[:n]) == "imok" {
				return &proc{cmd, exited}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("zkserver did not answer ruok within 30s")
	return nil
}

func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	bin := buildServer(t)
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := filepath.Join(dir, "zoo.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(
		"tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nsnapCount=300\n",
		filepath.Join(dir, "data"), port)), 0o644)

	for round := 0; round < 3; round++ {
		srv := startServer(t, bin, cfg, addr)
		c, _, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(nopLogger{}))
		if err != nil {
			t.Fatal(err)
		}
		root := fmt.Sprintf("/round%d", round)
		if _, err := c.Create(root, []byte("orig"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		acked := map[string]bool{}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					p := fmt.Sprintf("%s/w%d-%d", root, w, i)
					if _, err := c.Create(p, []byte(p), 0, zk.WorldACL(zk.PermAll)); err != nil {
						return
					}
					mu.Lock()
					acked[p] = true
					mu.Unlock()
					// A refused write: the root exists, this must never apply.
					if _, err := c.Create(root, []byte("refused"), 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNodeExists) {
						return
					}
				}
			}(w)
		}
		// Let writes flow, then kill mid-stream.
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 500+round*200 || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		srv.signal(syscall.SIGKILL)
		close(stop)
		wg.Wait()
		c.Close()

		srv2 := startServer(t, bin, cfg, addr)
		c2, _, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(nopLogger{}))
		if err != nil {
			t.Fatal(err)
		}
		kids, _, err := c2.Children(root)
		if err != nil {
			t.Fatalf("round %d: children after restart: %v", round, err)
		}
		present := map[string]bool{}
		for _, k := range kids {
			present[root+"/"+k] = true
		}
		var lost []string
		for p := range acked {
			if !present[p] {
				lost = append(lost, p)
			}
		}
		if len(lost) > 0 {
			t.Fatalf("round %d: %d of %d acknowledged creates lost, e.g. %v", round, len(lost), len(acked), lost[:min(5, len(lost))])
		}
		data, _, err := c2.Get(root)
		if err != nil || string(data) != "orig" {
			t.Fatalf("round %d: refused write took effect: %q %v", round, data, err)
		}
		for _, k := range kids {
			if !strings.HasPrefix(k, "w") {
				t.Fatalf("unexpected child %q", k)
			}
		}
		t.Logf("round %d: %d acknowledged creates survived kill -9 (%d present)", round, len(acked), len(kids))
		c2.Close()
		// The next round kills this incarnation's successor mid-stream; stop
		// this one (by its PID) so the port is free.
		srv2.signal(syscall.SIGTERM)
	}
}
