package replication

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

const crashDirEnv = "ZKGO_REPLICATION_CRASH_DIR"

// TestCrashChild is the process TestCrashKeepsAcknowledged kills: it
// proposes commands forever and prints each one once it is acknowledged.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashKeepsAcknowledged")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := Open(ctx, Config{ID: "1", DataDir: dir, Logger: testLogger(t)}, &listFSM{})
	if err != nil {
		fmt.Println("error", err)
		return
	}
	waitReady(t, n)
	for i := 0; ctx.Err() == nil; i++ {
		if _, err := n.ProposeWait(ctx, []byte(fmt.Sprint(i))); err != nil {
			fmt.Println("error", err)
			return
		}
		fmt.Println("ack", i)
	}
}

// TestCrashKeepsAcknowledged kills a server with SIGKILL while it writes:
// after a restart, every acknowledged command is there, in order.
func TestCrashKeepsAcknowledged(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	acked := -1
	sc := bufio.NewScanner(out)
	for acked < 300 && sc.Scan() {
		line := sc.Text()
		var i int
		if _, err := fmt.Sscanf(line, "ack %d", &i); err != nil || i != acked+1 {
			t.Fatalf("child: %q after ack %d", line, acked)
		}
		acked = i
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if acked < 300 {
		t.Fatalf("child stopped after %d acknowledgements", acked+1)
	}

	fsm := &listFSM{}
	n := open(t, standaloneConfig(t, dir), fsm)
	waitReady(t, n)
	got := fsm.list()
	if len(got) <= acked {
		t.Fatalf("after the crash the FSM has %d commands; %d were acknowledged", len(got), acked+1)
	}
	for i, e := range got {
		if e.Cmd != fmt.Sprint(i) {
			t.Fatalf("command %d is %q, want %d", i, e.Cmd, i)
		}
	}
}
