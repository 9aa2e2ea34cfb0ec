package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/leader"
	"github.com/zkgo/zkgo/recipes/lock"
)

// This file checks that recipes/lock and examples/ticketsale share locks
// with Apache Curator 5: testdata/recipes/RecipesAgent.java, compiled
// against the Debian Curator jars, contends with Go on one mutex, one
// read-write lock, one semaphore and one semaphore mutex, first step by step
// (who holds, who is refused, what each sees of the other's nodes), then
// in loops where both sides prove exclusion on the server (see occupy),
// and finally in a ticket sale mixed across the two languages.

// curatorNode matches a protected node name as Curator writes it.
func curatorNode(name string) *regexp.Regexp {
	return regexp.MustCompile(`^_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-` + regexp.QuoteMeta(name) + `[0-9]{10}$`)
}

// agent is a running RecipesAgent: one JVM, one Curator client, driven by
// commands on stdin and answering one line each on stdout.
type agent struct {
	stdin  io.WriteCloser
	lines  chan string // stdout lines, closed at EOF
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startAgent(t *testing.T, java, classpath, addr string) *agent {
	t.Helper()
	return startAgentClass(t, java, classpath, "RecipesAgent", addr)
}

// startAgentClass starts the Java agent class (RecipesAgent, CoordAgent,
// CacheAgent...) on the server at addr and waits for its READY line.
func startAgentClass(t *testing.T, java, classpath, class, addr string) *agent {
	t.Helper()
	cmd := exec.Command(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=error", "-cp", classpath, class, addr)
	a, _ := startLineProcess(t, class, cmd, true)
	if got := a.next(t, 90*time.Second); got != "READY" {
		t.Fatalf("agent said %q, want READY", got)
	}
	return a
}

// startLineProcess starts cmd (name, for logs) with its stdout read line by line into an
// agent; withStdin gives the agent cmd's stdin. At the test's end the
// process is asked to quit (stdin closed, "quit" sent if withStdin) or
// sent SIGINT, then killed after 20s.
func startLineProcess(t *testing.T, name string, cmd *exec.Cmd, withStdin bool) (*agent, *exec.Cmd) {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	a := &agent{lines: make(chan string, 1024), stderr: &syncBuffer{}}
	cmd.Stderr = a.stderr
	var err error
	if withStdin {
		if a.stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() { // ends at the process's EOF
		defer close(read)
		defer close(a.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			a.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if withStdin {
			io.WriteString(a.stdin, "quit\n")
			a.stdin.Close()
		} else {
			cmd.Process.Signal(syscall.SIGINT)
		}
		select {
		case <-read:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-read
		}
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, tail(a.stderr.String(), 40))
		}
	})
	return a, cmd
}

func (a *agent) next(t *testing.T, timeout time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-a.lines:
		if !ok {
			t.Fatalf("agent exited\n%s", tail(a.stderr.String(), 40))
		}
		return l
	case <-time.After(timeout):
		t.Fatalf("agent: no answer within %v\n%s", timeout, tail(a.stderr.String(), 40))
	}
	return ""
}

// do sends one command and returns its answer line, with the lines printed
// before it (the ticket sale's).
func (a *agent) do(t *testing.T, timeout time.Duration, format string, args ...any) (string, []string) {
	t.Helper()
	cmd := fmt.Sprintf(format, args...)
	if _, err := io.WriteString(a.stdin, cmd+"\n"); err != nil {
		t.Fatalf("agent %q: %v", cmd, err)
	}
	var before []string
	for {
		l := a.next(t, timeout)
		switch f, _, _ := strings.Cut(l, " "); f {
		case "HELD", "ACQUIRED", "LOCKED", "RELEASED", "PARTICIPANTS", "DONE", "FAIL":
			return l, before
		}
		before = append(before, l)
	}
}

// expect sends a command and fails unless the answer is want.
func (a *agent) expect(t *testing.T, want, format string, args ...any) {
	t.Helper()
	if got, _ := a.do(t, 60*time.Second, format, args...); got != want {
		t.Fatalf("agent %q answered %q, want %q", fmt.Sprintf(format, args...), got, want)
	}
}

// participants returns what Curator's getParticipantNodes lists.
func (a *agent) participants(t *testing.T, kind, path string) []string {
	t.Helper()
	got, _ := a.do(t, 60*time.Second, "participants %s %s", kind, path)
	list, ok := strings.CutPrefix(got, "PARTICIPANTS ")
	if !ok {
		t.Fatalf("participants: %q", got)
	}
	if list == "" {
		return nil
	}
	return strings.Split(list, ",")
}

func TestCuratorRecipes(t *testing.T) {
	t.Parallel()
	java := requireJava(t)
	cp := compileJava(t, curatorClasspath(t), "recipes", "RecipesAgent.java")
	bin := t.TempDir()
	ticketsale, leaderBin := filepath.Join(bin, "ticketsale"), filepath.Join(bin, "leader")
	runTool(t, 5*time.Minute, "", "go", "build", "-o", ticketsale, "github.com/zkgo/zkgo/examples/ticketsale")
	runTool(t, 5*time.Minute, "", "go", "build", "-o", leaderBin, "github.com/zkgo/zkgo/examples/leader")

	forEachTarget(t, serverOpts{}, func(t *testing.T, tg *target) {
		a := startAgent(t, java, cp, tg.addr)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		c, err := client.Connect(ctx, tg.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		t.Run("mutex", func(t *testing.T) { curatorMutex(ctx, t, a, c) })
		t.Run("rwlock", func(t *testing.T) { curatorRWLock(ctx, t, a, c) })
		t.Run("semaphore", func(t *testing.T) { curatorSemaphore(ctx, t, a, c) })
		t.Run("semmutex", func(t *testing.T) { curatorSemaphoreMutex(ctx, t, a, c) })
		t.Run("shared-semaphore", func(t *testing.T) { curatorSharedSemaphore(ctx, t, a, c) })
		for _, kind := range []string{"mutex", "rw", "sem2", "semmutex"} {
			t.Run("contend-"+kind, func(t *testing.T) { curatorContend(ctx, t, a, tg.addr, kind) })
		}
		t.Run("ticketsale", func(t *testing.T) { curatorTicketSale(ctx, t, a, c, tg.addr, ticketsale) })
		t.Run("latch", func(t *testing.T) { curatorLatch(ctx, t, a, c) })
		t.Run("latch-examples", func(t *testing.T) { curatorLatchExamples(ctx, t, a, tg.addr, leaderBin) })
		t.Run("throughput", func(t *testing.T) { curatorThroughput(ctx, t, a, c, tg.name) })
	})
}

func curatorMutex(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	const path = "/curator-recipes/mutex"
	m := lock.NewMutex(c, path)

	// Java holds: Go is refused and sees Java's node as Curator names it.
	a.expect(t, "HELD", "acquire mutex %s", path)
	if err := m.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("Go TryLock while Curator holds: %v, want ErrLocked", err)
	}
	p, err := m.Participants(ctx)
	if err != nil || len(p) != 1 || !curatorNode("lock-").MatchString(p[0][len(path)+1:]) {
		t.Fatalf("Go sees participants %q (%v), want Curator's one lock- node", p, err)
	}
	javaData, _, err := c.Get(ctx, p[0])
	if err != nil {
		t.Fatal(err)
	}

	// Go queues behind Java and gets the lock when Java releases.
	got := make(chan error, 1)
	go func() { got <- m.Lock(ctx) }()
	waitUntil(t, "Go's node queued behind Curator's", func() bool {
		p, _ := m.Participants(ctx)
		return len(p) == 2
	})
	jp := a.participants(t, "mutex", path)
	if len(jp) != 2 || jp[0] != p[0] {
		t.Fatalf("Curator sees participants %q, want its own node first, then Go's", jp)
	}
	a.expect(t, "RELEASED", "release mutex %s", path)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	goData, _, err := c.Get(ctx, m.Node())
	if err != nil {
		t.Fatal(err)
	}
	if string(goData) != string(javaData) {
		t.Errorf("Go's default lock data %q, Curator's %q", goData, javaData)
	}

	// Go holds: Curator is refused and queues behind Go.
	a.expect(t, "LOCKED", "try mutex %s", path)
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "ACQUIRED", "try mutex %s", path)
	a.expect(t, "RELEASED", "release mutex %s", path)
}

func curatorRWLock(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	const path = "/curator-recipes/rw"
	rw := lock.NewRWMutex(c, path)

	// A Go writer keeps Curator's readers and writers out.
	if err := rw.WriteLock().Lock(ctx); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "LOCKED", "try read %s", path)
	a.expect(t, "LOCKED", "try write %s", path)
	if err := rw.WriteLock().Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	// A Go reader shares with a Curator reader; a Curator writer waits.
	if err := rw.ReadLock().Lock(ctx); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "ACQUIRED", "try read %s", path)
	a.expect(t, "LOCKED", "try write %s", path)
	p, err := rw.ReadLock().Participants(ctx)
	if err != nil || len(p) != 2 || !curatorNode("__READ__").MatchString(p[1][len(path)+1:]) {
		t.Fatalf("participants %q (%v), want Go's then Curator's __READ__ node", p, err)
	}
	a.expect(t, "RELEASED", "release read %s", path)
	if err := rw.ReadLock().Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	// A Curator writer keeps Go's reader out; a Go writer waits for it.
	a.expect(t, "HELD", "acquire write %s", path)
	if err := rw.ReadLock().TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("Go reader while Curator writes: %v, want ErrLocked", err)
	}
	got := make(chan error, 1)
	go func() { got <- rw.WriteLock().Lock(ctx) }()
	waitUntil(t, "Go writer queued", func() bool {
		p, _ := rw.WriteLock().Participants(ctx)
		return len(p) == 2
	})
	p, _ = rw.WriteLock().Participants(ctx)
	if !curatorNode("__WRIT__").MatchString(p[0][len(path)+1:]) || !curatorNode("__WRIT__").MatchString(p[1][len(path)+1:]) {
		t.Fatalf("participants %q, want two __WRIT__ nodes", p)
	}
	a.expect(t, "RELEASED", "release write %s", path)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	rw.WriteLock().Unlock(ctx)
}

func curatorSemaphore(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	const path = "/curator-recipes/sem"
	s := lock.NewSemaphore(c, path, 2)
	l1, err := s.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.expect(t, "ACQUIRED", "try sem2 %s", path) // the second of two leases
	if _, err := s.TryAcquire(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("Go TryAcquire with Go and Curator holding both leases: %v, want ErrLocked", err)
	}
	jp := a.participants(t, "sem2", path)
	if len(jp) != 2 {
		t.Fatalf("Curator sees lease nodes %q, want 2", jp)
	}
	for _, n := range jp {
		if !curatorNode("lease-").MatchString(n) {
			t.Fatalf("lease node %q is not Curator's", n)
		}
	}
	// A Go waiter gets the lease Curator gives back.
	got := make(chan error, 1)
	var l2 *lock.Lease
	go func() {
		var err error
		l2, err = s.Acquire(ctx)
		got <- err
	}()
	waitUntil(t, "Go waiter's lease node", func() bool {
		p, _ := s.Participants(ctx)
		return len(p) == 3
	})
	a.expect(t, "RELEASED", "release sem2 %s", path)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	a.expect(t, "LOCKED", "try sem2 %s", path)
	l1.Release(ctx)
	a.expect(t, "ACQUIRED", "try sem2 %s", path)
	a.expect(t, "RELEASED", "release sem2 %s", path)
	l2.Release(ctx)
}

func curatorSemaphoreMutex(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	const path = "/curator-recipes/semmutex"
	m := lock.NewSemaphoreMutex(c, path)
	a.expect(t, "HELD", "acquire semmutex %s", path)
	if err := m.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("Go TryLock while Curator holds: %v, want ErrLocked", err)
	}
	a.expect(t, "RELEASED", "release semmutex %s", path)
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "LOCKED", "try semmutex %s", path)
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "ACQUIRED", "try semmutex %s", path)
	a.expect(t, "RELEASED", "release semmutex %s", path)
}

// curatorSharedSemaphore: a Go semaphore takes its limit from a count
// that Curator's SharedCount writes, and follows its changes.
func curatorSharedSemaphore(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	const path, count = "/curator-shared/sem", "/curator-shared/count"
	a.expect(t, "DONE", "count %s 1", count)
	s := lock.NewSharedSemaphore(c, path, count)
	l, err := s.TryAcquire(ctx)
	if err != nil {
		t.Fatalf("first lease under a count of 1: %v", err)
	}
	if _, err := s.TryAcquire(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("second lease under a count of 1: %v, want ErrLocked", err)
	}
	a.expect(t, "DONE", "count %s 2", count)
	l2, err := s.TryAcquire(ctx)
	if err != nil {
		t.Fatalf("second lease after Curator set the count to 2: %v", err)
	}
	l.Release(ctx)
	l2.Release(ctx)
}

// curatorContend runs one Curator contender and two Go contenders, each on
// its own session, on one lock; every holder checks on the server that it
// is alone (occupy), and the counter written under the exclusive holds must
// end at the number of exclusive rounds.
func curatorContend(ctx context.Context, t *testing.T, a *agent, addr, kind string) {
	const rounds, goContenders = 20, 2
	path := "/curator-contend/" + kind + "/lock"
	base := "/curator-contend/" + kind + "/check"
	c, err := client.Connect(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range []string{base + "/readers", base + "/holders"} {
		if _, err := c.Create(ctx, p, nil, client.WithParents()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Create(ctx, base+"/counter", []byte("0")); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, goContenders)
	for range goContenders {
		gc, err := client.Connect(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer gc.Close()
		go func() { errs <- goContend(ctx, gc, kind, path, base, rounds) }()
	}
	if got, _ := a.do(t, 4*time.Minute, "contend %s %s %s %d", kind, path, base, rounds); got != "DONE" {
		t.Errorf("Curator contender: %s", got)
	}
	for range goContenders {
		if err := <-errs; err != nil {
			t.Errorf("Go contender: %v", err)
		}
	}
	exclusive := (goContenders + 1) * rounds
	switch kind {
	case "rw":
		exclusive = (goContenders + 1) * ((rounds + 1) / 2) // even rounds write
	case "sem2":
		exclusive = 0
	}
	data, _, err := c.Get(ctx, base+"/counter")
	if err != nil || string(data) != strconv.Itoa(exclusive) {
		t.Fatalf("counter %q (%v), want %d: exclusive holders overlapped", data, err, exclusive)
	}
}

// goContend is RecipesAgent.contend in Go.
func goContend(ctx context.Context, c *client.Conn, kind, path, base string, rounds int) error {
	var rw *lock.RWMutex
	if kind == "rw" {
		rw = lock.NewRWMutex(c, path)
	}
	for i := range rounds {
		k := kind
		var l lock.Locker
		switch kind {
		case "mutex":
			l = lock.NewMutex(c, path)
		case "semmutex":
			l = lock.NewSemaphoreMutex(c, path)
		case "rw":
			k, l = "write", rw.WriteLock()
			if i%2 == 1 {
				k, l = "read", rw.ReadLock()
			}
		case "sem2":
			lease, err := lock.NewSemaphore(c, path, 2).Acquire(ctx)
			if err != nil {
				return err
			}
			err = occupy(ctx, c, k, base)
			if rerr := lease.Release(ctx); err == nil {
				err = rerr
			}
			if err != nil {
				return err
			}
			continue
		}
		if err := l.Lock(ctx); err != nil {
			return err
		}
		err := occupy(ctx, c, k, base)
		if uerr := l.Unlock(ctx); err == nil {
			err = uerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// occupy is RecipesAgent.occupy in Go: see there.
func occupy(ctx context.Context, c *client.Conn, kind, base string) error {
	switch {
	case kind == "read":
		me, err := c.Create(ctx, base+"/readers/r-", nil, client.WithMode(client.EphemeralSequential))
		if err != nil {
			return err
		}
		if st, err := c.Exists(ctx, base+"/occ"); err != nil || st != nil {
			return fmt.Errorf("OVERLAP reader with a writer (%v)", err)
		}
		return c.Delete(ctx, me, -1)
	case kind == "sem2":
		me, err := c.Create(ctx, base+"/holders/h-", nil, client.WithMode(client.EphemeralSequential))
		if err != nil {
			return err
		}
		if h, err := c.Children(ctx, base+"/holders"); err != nil || len(h) > 2 {
			return fmt.Errorf("OVERLAP %d holders of 2 leases (%v)", len(h), err)
		}
		return c.Delete(ctx, me, -1)
	default:
		if _, err := c.Create(ctx, base+"/occ", nil, client.WithMode(client.Ephemeral)); err != nil {
			return fmt.Errorf("OVERLAP two exclusive holders: %w", err)
		}
		if r, err := c.Children(ctx, base+"/readers"); err != nil || len(r) != 0 {
			return fmt.Errorf("OVERLAP writer with readers %q (%v)", r, err)
		}
		data, _, err := c.Get(ctx, base+"/counter")
		if err != nil {
			return err
		}
		v, err := strconv.Atoi(string(data))
		if err != nil {
			return err
		}
		if _, err := c.Set(ctx, base+"/counter", []byte(strconv.Itoa(v+1)), -1); err != nil {
			return err
		}
		return c.Delete(ctx, base+"/occ", -1)
	}
}

var soldLine = regexp.MustCompile(`^(java-)?seller-[0-9]+ sold ticket ([0-9]+)$`)

// curatorTicketSale runs examples/ticketsale (two Go sellers) and two
// Curator sellers on one lock and one count: every ticket is sold exactly
// once, by one side or the other.
func curatorTicketSale(ctx context.Context, t *testing.T, a *agent, c *client.Conn, addr, bin string) {
	const tickets = 80
	lockPath, countPath := "/curator-tickets/lock", "/curator-tickets/count"
	if _, err := c.Create(ctx, countPath, []byte(strconv.Itoa(tickets)), client.WithParents()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		out []byte
		err error
	}
	goSale := make(chan result, 1)
	go func() {
		cmd := exec.CommandContext(ctx, bin, "-server", addr, "-lock", lockPath, "-count", countPath, "-sellers", "2")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out, err := cmd.Output()
		goSale <- result{out, err}
	}()
	ans, javaLines := a.do(t, 4*time.Minute, "tickets %s %s 2", lockPath, countPath)
	if ans != "DONE" {
		t.Fatalf("Curator sellers: %s", ans)
	}
	r := <-goSale
	if r.err != nil {
		t.Fatalf("ticketsale: %v\n%s", r.err, r.out)
	}
	goLines := strings.Split(strings.TrimSpace(string(r.out)), "\n")
	if len(goLines) == 1 && goLines[0] == "" {
		goLines = nil
	}
	soldBy := make(map[int]string)
	var goSold, javaSold int
	for _, l := range append(goLines, javaLines...) {
		m := soldLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected line %q", l)
		}
		n, _ := strconv.Atoi(m[2])
		if prev, dup := soldBy[n]; dup {
			t.Fatalf("ticket %d sold twice: %q and %q", n, prev, l)
		}
		soldBy[n] = l
		if m[1] == "" {
			goSold++
		} else {
			javaSold++
		}
	}
	if len(soldBy) != tickets {
		t.Fatalf("%d tickets sold, want %d", len(soldBy), tickets)
	}
	data, _, err := c.Get(ctx, countPath)
	if err != nil || string(data) != "0" {
		t.Fatalf("count after the sale %q (%v)", data, err)
	}
	t.Logf("Go sold %d, Curator sold %d", goSold, javaSold)
}

func curatorLatch(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	const path = "/curator-latch/election"
	a.expect(t, "HELD", "latchjoin %s java-1", path)
	// Curator's LeaderLatch.start creates its node in the background.
	waitUntil(t, "Curator's latch node", func() bool {
		ch, _ := c.Children(ctx, path)
		return len(ch) == 1
	})
	gl := leader.NewLatch(c, path, "go-1")
	if err := gl.Start(); err != nil {
		t.Fatal(err)
	}
	defer gl.Close()
	waitUntil(t, "both latches in", func() bool {
		p, _ := gl.Participants(ctx)
		return len(p) == 2
	})
	if p, _ := gl.Participants(ctx); fmt.Sprint(p) != "[{java-1 true} {go-1 false}]" {
		t.Fatalf("participants %v, want Curator's latch leading, then Go's", p)
	}
	children, err := c.Children(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range children {
		if !curatorNode("latch-").MatchString(n) {
			t.Fatalf("latch node %q is not Curator's", n)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := gl.Await(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Go Await while Curator leads: %v", err)
	}
	a.expect(t, "RELEASED", "latchleave %s java-1", path)
	if _, err := gl.Await(ctx); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "HELD", "latchjoin %s java-2", path)
	waitUntil(t, "Curator's latch behind Go's", func() bool {
		p, _ := gl.Participants(ctx)
		return fmt.Sprint(p) == "[{go-1 true} {java-2 false}]"
	})
	a.expect(t, "RELEASED", "latchleave %s java-2", path)
}

// curatorLatchExamples runs examples/leader twice and the same program on
// a Curator LeaderLatch once, on one path: the printed leaderships must
// not overlap.
func curatorLatchExamples(ctx context.Context, t *testing.T, a *agent, addr, bin string) {
	const path = "/curator-latch/examples"
	type result struct {
		out []byte
		err error
	}
	results := make(chan result, 2)
	for i := range 2 {
		go func() {
			cmd := exec.CommandContext(ctx, bin, "-server", addr, "-path", path, "-id", fmt.Sprintf("go-%d", i), "-hold", "300ms")
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			out, err := cmd.Output()
			results <- result{out, err}
		}()
	}
	ans, lines := a.do(t, 4*time.Minute, "latch %s java-1 300", path)
	if ans != "DONE" {
		t.Fatalf("Curator latch: %s", ans)
	}
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatalf("examples/leader: %v\n%s", r.err, r.out)
		}
		if out := strings.TrimSpace(string(r.out)); out != "" {
			lines = append(lines, strings.Split(out, "\n")...)
		}
	}
	type interval struct {
		id         string
		start, end int64
	}
	re := regexp.MustCompile(`^(\S+) (leader|released) ([0-9]+)$`)
	open := make(map[string]int64)
	var ivs []interval
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected line %q", l)
		}
		ns, _ := strconv.ParseInt(m[3], 10, 64)
		if m[2] == "leader" {
			open[m[1]] = ns
		} else {
			ivs = append(ivs, interval{m[1], open[m[1]], ns})
		}
	}
	if len(ivs) != 3 {
		t.Fatalf("%d leaderships, want 3: %q", len(ivs), lines)
	}
	for i, x := range ivs {
		for _, y := range ivs[i+1:] {
			if x.start < y.end && y.start < x.end {
				t.Fatalf("%s led %d..%d while %s led %d..%d", x.id, x.start, x.end, y.id, y.start, y.end)
			}
		}
	}
	t.Logf("leaderships: %v", ivs)
}

// curatorThroughput logs uncontended mutex acquisitions per second of Go
// and Curator on the same server, for issue 9's comparison. It asserts
// nothing about speed: the machines are shared and noisy.
func curatorThroughput(ctx context.Context, t *testing.T, a *agent, c *client.Conn, server string) {
	if testing.Short() {
		t.Skip("throughput figures skipped in -short mode")
	}
	const n = 500
	ans, _ := a.do(t, 4*time.Minute, "bench /curator-bench/java %d", n)
	javaRate, err := strconv.ParseFloat(strings.TrimPrefix(ans, "DONE "), 64)
	if err != nil {
		t.Fatalf("Curator bench: %q", ans)
	}
	m := lock.NewMutex(c, "/curator-bench/go")
	var start time.Time
	for i := range n + n/5 {
		if i == n/5 { // after the same warm-up as Curator's
			start = time.Now()
		}
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	goRate := n / time.Since(start).Seconds()
	t.Logf("%s: uncontended mutex acquisitions/s: Go %.0f, Curator %.0f (Go/Curator %.2f)", server, goRate, javaRate, goRate/javaRate)
}

// waitUntil polls cond until it holds or 60s pass.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
