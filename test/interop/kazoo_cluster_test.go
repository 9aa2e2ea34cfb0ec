package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKazooCluster runs testdata/kazoo/cluster/hostlist.py against the
// ensemble targets: a client with a host list across a server's death.
func TestKazooCluster(t *testing.T) {
	t.Parallel()
	requireKazoo(t)
	forEachEnsemble(t, serverOpts{tickTime: clusterTick}, func(t *testing.T, tg *target) {
		runKazooScript(t, tg, "hostlist")
	})
}

// TestKazooReadOnly runs testdata/kazoo/cluster/readonly.py against the
// ensemble targets with readonlymode.enabled: kazoo's read_only clients
// on a server without a quorum.
func TestKazooReadOnly(t *testing.T) {
	t.Parallel()
	requireKazoo(t)
	forEachEnsemble(t, serverOpts{tickTime: clusterTick, readOnly: true}, func(t *testing.T, tg *target) {
		runKazooScript(t, tg, "readonly")
	})
}

// runKazooScript runs testdata/kazoo/cluster/<name>.py, which must print OK.
func runKazooScript(t *testing.T, tg *target, name string) {
	t.Helper()
	out := runKazooControlled(t, tg, filepath.Join("testdata", "kazoo", "cluster", name+".py"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[len(lines)-1] != "OK" {
		t.Fatalf("%s.py did not print OK:\n%s", name, out)
	}
}

// runKazooControlled runs a kazoo script that asks the test to act on the
// ensemble: it prints "CONTROL <request>" on stdout and reads the answer, one
// line, on stdin (see control in _common.py). It returns the script's
// stdout, and fails t with stdout and stderr when the script fails.
func runKazooControlled(t *testing.T, tg *target, script string) string {
	t.Helper()
	common, err := filepath.Abs(filepath.Join("testdata", "kazoo"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// -B: write no __pycache__ into testdata.
	cmd := exec.CommandContext(ctx, python, "-B", script, tg.addr)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+common)
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer // written by exec's copier until Wait returns
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	defer func() {
		// On a failed request t.Fatal lands here with the script waiting
		// for its answer: kill it.
		if !waited {
			cancel()
			cmd.Wait()
		}
	}()
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		req, ok := strings.CutPrefix(line, "CONTROL ")
		if !ok {
			continue
		}
		answer := tg.control(t, req)
		t.Logf("%s: %s -> %s", filepath.Base(script), req, answer)
		if _, err := fmt.Fprintln(stdin, answer); err != nil {
			t.Fatalf("answering %q: %v", req, err)
		}
	}
	err = cmd.Wait()
	waited = true
	if ctx.Err() != nil {
		t.Fatalf("%s: no result within 3m\n--- stdout ---\n%s--- stderr ---\n%s", script, out.String(), stderr.String())
	}
	if err != nil {
		t.Fatalf("%s: %v\n--- stdout ---\n%s--- stderr ---\n%s", script, err, out.String(), stderr.String())
	}
	return out.String()
}

// control carries out a script's request on the ensemble and returns the
// answer. Requests name a session by its id in hex, as kazoo's client_id:
//
//	kill-server-of SID        kill the server SID is connected to; answers its myid
//	server-of SID             answers the myid of the server SID is connected to
//	lose-quorum-keeping SID   kill every server but SID's; answers the kept myid
//	restore                   start every killed server, wait until all serve
func (tg *target) control(t *testing.T, req string) string {
	t.Helper()
	f := strings.Fields(req)
	sid := func() int64 {
		t.Helper()
		if len(f) != 2 {
			t.Fatalf("control request %q: want a session id", req)
		}
		id, err := strconv.ParseUint(strings.TrimPrefix(f[1], "0x"), 16, 64)
		if err != nil {
			t.Fatalf("control request %q: %v", req, err)
		}
		return int64(id)
	}
	switch f[0] {
	case "kill-server-of":
		i := tg.serverOf(t, sid())
		tg.killMember(t, i)
		return strconv.Itoa(i + 1)
	case "server-of":
		return strconv.Itoa(tg.serverOf(t, sid()) + 1)
	case "lose-quorum-keeping":
		keep := tg.serverOf(t, sid())
		for i := range tg.members.Size() {
			if i != keep {
				tg.killMember(t, i)
			}
		}
		return strconv.Itoa(keep + 1)
	case "restore":
		tg.startStopped(t)
		return "restored"
	}
	t.Fatalf("unknown control request %q", req)
	return ""
}

// serverOf returns the index of the running member that lists session sid
// among its connections (cons), waiting for a client that is reconnecting.
func (tg *target) serverOf(t *testing.T, sid int64) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	want := fmt.Sprintf("sid=0x%x,", uint64(sid))
	for {
		for i := range tg.members.Size() {
			if !tg.members.Running(i) {
				continue
			}
			if out, err := fourLetter(ctx, tg.members.Addr(i), "cons"); err == nil && strings.Contains(out, want) {
				return i
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: no server lists session %#x in cons", tg.name, sid)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
