package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/zkgo/zkgo/proto"
)

var (
	// errSessionRefused is returned when the server answers the handshake
	// with a zero timeout (it refused or expired the session).
	errSessionRefused = errors.New("zkbench: session refused")
	// errOutOfOrder is returned when a reply's xid is not the one of the
	// oldest outstanding request: ZooKeeper answers a session in order.
	errOutOfOrder = errors.New("zkbench: reply out of order")
	// errBroken is returned by run on a session whose connection failed.
	errBroken = errors.New("zkbench: session connection broken")
)

const (
	requestedTimeout = 30 * time.Second
	ioBufferSize     = 64 << 10
	// maxFrame bounds a reply; generous so that -purge can list a parent
	// with a million children in one getChildren.
	maxFrame = 256 << 20
)

// aLongTimeAgo is a deadline in the past, set to unblock pending I/O.
var aLongTimeAgo = time.Unix(1, 0)

// pending is an outstanding request, queued in send order.
type pending struct {
	xid   int32
	op    proto.OpCode
	tag   int64 // the workload's identifier for the request
	start time.Time
}

// workload produces the requests of one session and consumes their replies.
// next runs on the session's writer goroutine and reply on its reader
// goroutine; a workload shared by several sessions must be safe for that.
type workload interface {
	// next appends the request frame with the given xid to dst and returns
	// it, with the op and a tag that reply will get back; ok is false when
	// the session has nothing more to send.
	next(dst []byte, xid int32) (frame []byte, op proto.OpCode, tag int64, ok bool)
	// reply handles the reply to p, in send order: its error code and, when
	// the code is OK, its body (valid only during the call). A returned error
	// aborts the session.
	reply(p *pending, code proto.Code, body []byte, now time.Time) error
}

// session is one ZooKeeper session on one TCP connection. Between calls to
// run it has no goroutines; run starts a writer and a reader and returns once
// both have stopped. A session is used by one goroutine at a time.
type session struct {
	addr    string
	conn    net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	id      int64
	timeout time.Duration // negotiated session timeout
	xid     int32
	rbuf    []byte
	broken  bool
}

// dial connects to addr and opens a new session. The handshake is bounded by
// ctx and by handshakeTimeout.
func dial(ctx context.Context, addr string, handshakeTimeout time.Duration) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("zkbench: dial %s: %w", addr, err)
	}
	s := &session{
		addr: addr,
		conn: conn,
		br:   bufio.NewReaderSize(conn, ioBufferSize),
		bw:   bufio.NewWriterSize(conn, ioBufferSize),
	}
	if err := s.handshake(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("zkbench: connect to %s: %w", addr, err)
	}
	return s, nil
}

func (s *session) handshake(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		s.conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(aLongTimeAgo) })
	defer stop()
	req := proto.ConnectRequest{
		TimeOut:     int32(requestedTimeout / time.Millisecond),
		Passwd:      make([]byte, 16),
		HasReadOnly: true,
	}
	if _, err := s.conn.Write(proto.AppendFrame(nil, proto.Encode(&req))); err != nil {
		return err
	}
	frame, err := proto.ReadFrame(s.br, nil, 0)
	if err != nil {
		return err
	}
	var resp proto.ConnectResponse
	if err := proto.Decode(frame, &resp); err != nil {
		return err
	}
	if resp.TimeOut <= 0 || resp.SessionID == 0 {
		return errSessionRefused
	}
	s.id = resp.SessionID
	s.timeout = time.Duration(resp.TimeOut) * time.Millisecond
	if !stop() {
		return context.Cause(ctx)
	}
	return s.conn.SetDeadline(time.Time{})
}

// nextXid returns the next request xid, positive and wrapping.
func (s *session) nextXid() int32 {
	if s.xid == 1<<31-1 {
		s.xid = 0
	}
	s.xid++
	return s.xid
}

// run sends w's requests, keeping up to window of them outstanding, until w
// has no more and every reply has arrived, ctx ends, or an error occurs. It
// runs a writer and a reader goroutine and waits for both. After an error the
// session is broken and only close may be called.
func (s *session) run(ctx context.Context, w workload, window int) error {
	if s.broken {
		return errBroken
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Unblock the socket when the run is aborted: this is how the writer's
	// and reader's blocking I/O learns about an error on the other side.
	stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(aLongTimeAgo) })
	// fifo holds the outstanding requests in send order; slots bounds them.
	fifo := make(chan pending, window)
	slots := make(chan struct{}, window)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(fifo)
		if err := s.write(ctx, w, fifo, slots); err != nil {
			cancel(err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := s.read(w, fifo, slots); err != nil {
			cancel(err)
		}
	}()
	wg.Wait()
	if !stop() {
		// The first error (or the caller's cancellation) is the cause.
		s.broken = true
		return fmt.Errorf("zkbench: session 0x%x on %s: %w", s.id, s.addr, context.Cause(ctx))
	}
	return nil
}

// write is the writer loop: it alone writes to the connection during run.
func (s *session) write(ctx context.Context, w workload, fifo chan<- pending, slots chan struct{}) error {
	pingEvery := s.timeout / 3
	ping := time.NewTimer(pingEvery)
	defer ping.Stop()
	lastWrite := time.Now()
	var buf []byte
	for {
		select {
		case slots <- struct{}{}:
		default:
			// The window is full: send what is buffered and wait for a
			// reply, pinging if the server stays silent.
			if err := s.bw.Flush(); err != nil {
				return fmt.Errorf("zkbench: write: %w", err)
			}
			if err := s.waitSlot(ctx, slots, ping, pingEvery, &lastWrite); err != nil {
				return err
			}
		}
		xid := s.nextXid()
		frame, op, tag, ok := w.next(buf[:0], xid)
		if !ok {
			<-slots
			if err := s.bw.Flush(); err != nil {
				return fmt.Errorf("zkbench: write: %w", err)
			}
			return nil
		}
		buf = frame
		lastWrite = time.Now()
		fifo <- pending{xid: xid, op: op, tag: tag, start: lastWrite}
		if _, err := s.bw.Write(frame); err != nil {
			return fmt.Errorf("zkbench: write: %w", err)
		}
	}
}

// waitSlot blocks until a slot is free, sending a ping whenever nothing has
// been written for pingEvery.
func (s *session) waitSlot(ctx context.Context, slots chan<- struct{}, ping *time.Timer, pingEvery time.Duration, lastWrite *time.Time) error {
	for {
		select {
		case slots <- struct{}{}:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		case now := <-ping.C:
			if idle := now.Sub(*lastWrite); idle < pingEvery {
				ping.Reset(pingEvery - idle)
				continue
			}
			hdr := proto.RequestHeader{Xid: proto.XidPing, Type: proto.OpPing}
			if _, err := s.bw.Write(proto.AppendRequest(nil, hdr, nil)); err != nil {
				return fmt.Errorf("zkbench: ping: %w", err)
			}
			if err := s.bw.Flush(); err != nil {
				return fmt.Errorf("zkbench: ping: %w", err)
			}
			*lastWrite = now
			ping.Reset(pingEvery)
		}
	}
}

// read is the reader loop: it matches each reply to the oldest outstanding
// request and frees its slot.
func (s *session) read(w workload, fifo <-chan pending, slots <-chan struct{}) error {
	// A server that answers nothing for twice the session timeout is stuck
	// (our pings keep the session alive meanwhile).
	readTimeout := 2 * s.timeout
	var deadline time.Time
	for p := range fifo {
		for {
			now := time.Now()
			if deadline.Sub(now) < readTimeout/2 {
				deadline = now.Add(readTimeout)
				s.conn.SetReadDeadline(deadline)
			}
			hdr, body, err := s.readReply()
			if err != nil {
				return err
			}
			if hdr.Xid == proto.XidPing || hdr.Xid == proto.XidNotification || hdr.Xid == proto.XidAuth {
				continue
			}
			if hdr.Xid != p.xid {
				return fmt.Errorf("%w: got xid %d, want %d (%v)", errOutOfOrder, hdr.Xid, p.xid, p.op)
			}
			if hdr.Err != proto.OK {
				body = nil
			}
			if err := w.reply(&p, hdr.Err, body, time.Now()); err != nil {
				return err
			}
			break
		}
		<-slots
	}
	return nil
}

// readReply reads one frame and splits it into header and body. The body
// is valid until the next call.
func (s *session) readReply() (proto.ReplyHeader, []byte, error) {
	var hdr proto.ReplyHeader
	frame, err := proto.ReadFrame(s.br, s.rbuf, maxFrame)
	if err != nil {
		return hdr, nil, fmt.Errorf("zkbench: read reply from %s: %w", s.addr, err)
	}
	if cap(frame) <= ioBufferSize {
		s.rbuf = frame[:0]
	}
	if len(frame) < proto.ReplyHeaderSize {
		return hdr, nil, fmt.Errorf("zkbench: read reply from %s: %w: %d-byte frame", s.addr, proto.ErrMalformed, len(frame))
	}
	if err := proto.Decode(frame[:proto.ReplyHeaderSize], &hdr); err != nil {
		return hdr, nil, err
	}
	return hdr, frame[proto.ReplyHeaderSize:], nil
}

// close ends the session politely (closeSession, so the server frees it at
// once) when the connection is healthy, then closes the connection.
func (s *session) close() error {
	defer s.conn.Close()
	if s.broken {
		return nil
	}
	s.conn.SetDeadline(time.Now().Add(2 * time.Second))
	xid := s.nextXid()
	hdr := proto.RequestHeader{Xid: xid, Type: proto.OpCloseSession}
	if _, err := s.conn.Write(proto.AppendRequest(nil, hdr, nil)); err != nil {
		return fmt.Errorf("zkbench: close session 0x%x: %w", s.id, err)
	}
	for {
		rh, _, err := s.readReply()
		if err != nil {
			return fmt.Errorf("zkbench: close session 0x%x: %w", s.id, err)
		}
		if rh.Xid == xid {
			return nil
		}
	}
}
