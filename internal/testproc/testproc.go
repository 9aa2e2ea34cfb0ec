package testproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// stopBound is how long Stop waits after SIGTERM before it sends SIGKILL.
const stopBound = 10 * time.Second

// Spec describes a server process to launch.
type Spec struct {
	Cmd  *exec.Cmd // the command, not yet started; Dir, Stdout and Stderr are set by Launch
	Addr string    // the client address it will serve, 127.0.0.1:port
	Dir  string    // its working directory
	Log  string    // file for its combined output
	// AppendLog keeps what Log holds (a restart); otherwise it is truncated.
	AppendLog bool
	// SkipLine, if set, drops log lines from LogTail (e.g. Java stack frames).
	SkipLine func(line string) bool
	// Ready, if set, replaces the standalone readiness check: Launch
	// returns once it returns nil for Addr (an ensemble member, which
	// cannot serve alone, is ready once it answers on its client port).
	Ready func(addr string) error
}

// Process is a started server process.
type Process struct {
	spec Spec
	done chan struct{} // closed once the process has been reaped
	once sync.Once     // sends Stop's signals at most once
}

// Launch starts spec.Cmd and returns once the server serves, or the
// (stopped) process with an error carrying the log tail when it exited or
// did not serve within timeout.
func Launch(ctx context.Context, spec Spec, timeout time.Duration) (*Process, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if spec.AppendLog {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	logf, err := os.OpenFile(spec.Log, flags, 0o644)
	if err != nil {
		return nil, err
	}
	p := &Process{spec: spec, done: make(chan struct{})}
	cmd := spec.Cmd
	cmd.Dir, cmd.Stdout, cmd.Stderr = spec.Dir, logf, logf
	killWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	go func() {
		// Owned by p: reaps the process; Stop and Kill wait for done.
		cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	if err := p.waitServing(ctx, timeout); err != nil {
		p.Stop()
		return p, fmt.Errorf("%w\nlog tail:\n%s", err, p.LogTail(40))
	}
	return p, nil
}

// Addr returns the client address, 127.0.0.1:port.
func (p *Process) Addr() string { return p.spec.Addr }

// Pid returns the process id.
func (p *Process) Pid() int { return p.spec.Cmd.Process.Pid }

// Dir returns the process's directory.
func (p *Process) Dir() string { return p.spec.Dir }

// Done returns a channel closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop ends the process by PID (SIGTERM, then SIGKILL after 10s) and waits
// for it. It is idempotent, and returns at once after Kill.
func (p *Process) Stop() {
	p.once.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		p.spec.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopBound):
			p.spec.Cmd.Process.Kill()
		}
	})
	<-p.done
}

// Kill sends SIGKILL to the process (a crash: nothing is flushed) and waits
// for it to exit. It is idempotent.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.spec.Cmd.Process.Kill() // os.Process ignores a process already reaped
	<-p.done
}

// LogTail returns the last n lines of the process's combined output, less
// the lines Spec.SkipLine drops.
func (p *Process) LogTail(n int) string {
	b, err := os.ReadFile(p.spec.Log)
	if err != nil {
		return err.Error()
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if p.spec.SkipLine == nil || !p.spec.SkipLine(l) {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitServing polls until Spec.Ready returns nil or, by default, until srvr
// reports standalone mode (Apache listens before its database is loaded;
// srvr is in every whitelist) and a session can be opened and closed.
func (p *Process) waitServing(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := errors.New("no attempt")
	for {
		if p.spec.Ready != nil {
			last = p.spec.Ready(p.spec.Addr)
			if last == nil {
				return nil
			}
		} else if strings.Contains(FourLetter(p.spec.Addr, "srvr"), "Mode: standalone") {
			if last = ProbeSession(p.spec.Addr); last == nil {
				return nil
			}
		} else {
			last = errors.New("srvr reports no standalone mode")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last attempt: %v)", ctx.Err(), last)
		case <-p.done:
			return errors.New("process exited")
		case <-tick.C:
		}
	}
}

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago
// and on which nothing answers, so that a readiness probe cannot reach
// another server if the one started there fails to bind.
func FreeAddr() (string, error) {
	for range 10 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("finding a free port: %w", err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			continue
		}
		return addr, nil
	}
	return "", errors.New("finding a free port: every candidate answered")
}

// FourLetter sends a four-letter word to addr and returns the answer ("" if
// there is none within 2s).
func FourLetter(addr, word string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(word)); err != nil {
		return ""
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// ProbeSession opens a session at addr and closes it.
func ProbeSession(addr string) error {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	req := proto.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16), HasReadOnly: true}
	if _, err := nc.Write(proto.AppendFrame(nil, proto.Encode(&req))); err != nil {
		return err
	}
	br := bufio.NewReader(nc)
	f, err := proto.ReadFrame(br, nil, 0)
	if err != nil {
		return err
	}
	var resp proto.ConnectResponse
	if err := proto.Decode(f, &resp); err != nil {
		return err
	}
	if resp.SessionID == 0 {
		return errors.New("no session granted")
	}
	hdr := proto.RequestHeader{Xid: 1, Type: proto.OpCloseSession}
	if _, err := nc.Write(proto.AppendFrame(nil, proto.Encode(&hdr))); err != nil {
		return err
	}
	if f, err = proto.ReadFrame(br, nil, 0); err != nil {
		return err
	}
	var rh proto.ReplyHeader
	if err := proto.Decode(f, &rh); err != nil {
		return err
	}
	if rh.Err != proto.OK {
		return fmt.Errorf("closeSession: %w", rh.Err)
	}
	return nil
}
