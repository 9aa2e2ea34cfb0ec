package client

import (
	"bufio"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// Request lifecycle. A request moves queued -> sent -> replying -> done, or
// to abandoned when its caller stops waiting (context done, Close, or no
// connection within the connect timeout) before a reply is being processed.
// Every transition is a CAS, so exactly one party completes a request.
const (
	reqQueued int32 = iota
	reqSent
	reqReplying
	reqDone
	reqAbandoned
)

// request is one operation in flight. The caller's goroutine waits on done;
// no goroutine is started per request.
type request struct {
	op   proto.OpCode
	body proto.Record // nil for header-only requests
	resp proto.Record // decoded from a successful reply; nil to ignore the body
	// bodyOnError decodes resp even when the reply header carries an error
	// code, if a body is present (multi results).
	bodyOnError bool
	// onReply runs on the receive goroutine after resp is decoded and before
	// the caller is woken, so that watches are registered before any later
	// notification is dispatched. It is not called for abandoned requests.
	onReply func(code proto.Code)

	xid   int32
	state atomic.Int32
	done  chan struct{}
	zxid  int64 // valid after done
	err   error // valid after done
}

func newRequest(op proto.OpCode, body, resp proto.Record) *request {
	return &request{op: op, body: body, resp: resp, done: make(chan struct{})}
}

// finish records the outcome; the caller must have moved the request to
// reqReplying.
func (r *request) finish(zxid int64, err error) {
	r.zxid, r.err = zxid, err
	r.state.Store(reqDone)
	close(r.done)
}

// fail completes a request that is queued or sent with err; it reports false
// if someone else completed or abandoned it first.
func (r *request) fail(err error) bool {
	for {
		s := r.state.Load()
		if s != reqQueued && s != reqSent {
			return false
		}
		if r.state.CompareAndSwap(s, reqReplying) {
			r.finish(0, err)
			return true
		}
	}
}

// abandon marks a queued or sent request as no longer awaited; it reports
// false if a reply is already being processed (then done will close soon).
func (r *request) abandon() bool {
	return r.state.CompareAndSwap(reqQueued, reqAbandoned) || r.state.CompareAndSwap(reqSent, reqAbandoned)
}

// wire is one TCP connection of a session. Its send goroutine is the only
// writer after the handshake and owns the pings; its receive goroutine reads
// every frame. Both stop when done is closed (shutdown).
type wire struct {
	c        *Conn
	nc       net.Conn
	addr     string
	br       *bufio.Reader
	bw       *bufio.Writer
	timeout  time.Duration // negotiated session timeout
	session  int64
	passwd   []byte
	readOnly bool

	mu      sync.Mutex
	pending []*request // guarded by mu: sent requests in xid order
	auths   []*request // guarded by mu: auth packets in order; nil entries are replays

	done chan struct{}
	once sync.Once
	err  error // why the wire shut down; written before done is closed
}

// shutdown closes the connection once, recording why.
func (w *wire) shutdown(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.done)
		w.nc.Close()
	})
}

// failPending completes every request still waiting for a reply. Called after
// both loops have exited.
func (w *wire) failPending(err error) {
	w.mu.Lock()
	pending, auths := w.pending, w.auths
	w.pending, w.auths = nil, nil
	w.mu.Unlock()
	for _, r := range pending {
		r.fail(err)
	}
	for _, r := range auths {
		if r != nil {
			r.fail(err)
		}
	}
}

// maxBatch bounds how many queued requests the sender encodes before it
// flushes, so that one busy producer cannot delay a flush indefinitely.
const maxBatch = 256

// sendLoop is the sole socket writer: it encodes queued requests, flushing
// once the queue is momentarily empty, and pings when nothing was sent for a
// third of the session timeout.
func (w *wire) sendLoop() {
	c := w.c
	var enc proto.Encoder
	pingEvery := max(w.timeout/3, 10*time.Millisecond)
	ping := time.NewTimer(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-w.done:
			return
		case r := <-c.sendq:
			w.nc.SetWriteDeadline(time.Now().Add(w.timeout * 2 / 3))
			if err := w.send(r, &enc); err != nil {
				w.shutdown(err)
				return
			}
		batch:
			for n := 1; n < maxBatch; n++ {
				select {
				case r := <-c.sendq:
					if err := w.send(r, &enc); err != nil {
						w.shutdown(err)
						return
					}
				default:
					break batch
				}
			}
			if err := w.bw.Flush(); err != nil {
				w.shutdown(fmt.Errorf("write to %s: %w", w.addr, err))
				return
			}
			ping.Reset(pingEvery)
		case <-ping.C:
			w.nc.SetWriteDeadline(time.Now().Add(w.timeout * 2 / 3))
			enc.Reset()
			frame := proto.AppendRequest(enc.Bytes(), proto.RequestHeader{Xid: proto.XidPing, Type: proto.OpPing}, nil)
			_, err := w.bw.Write(frame)
			if err == nil {
				err = w.bw.Flush()
			}
			if err != nil {
				w.shutdown(fmt.Errorf("ping %s: %w", w.addr, err))
				return
			}
			ping.Reset(pingEvery)
		}
	}
}

// send encodes one request into the write buffer and records it as pending.
func (w *wire) send(r *request, enc *proto.Encoder) error {
	if !r.state.CompareAndSwap(reqQueued, reqSent) {
		return nil // abandoned while queued
	}
	xid := proto.XidAuth
	if r.op != proto.OpAuth {
		xid = w.c.nextXid()
	}
	r.xid = xid
	enc.Reset()
	mark := proto.BeginFrame(enc)
	hdr := proto.RequestHeader{Xid: xid, Type: r.op}
	hdr.Encode(enc)
	if r.body != nil {
		r.body.Encode(enc)
	}
	proto.EndFrame(enc, mark)
	if enc.Len()-4 > w.c.cfg.maxBuffer {
		r.fail(fmt.Errorf("%w: %d bytes, limit %d", ErrRequestTooLarge, enc.Len()-4, w.c.cfg.maxBuffer))
		return nil
	}
	w.mu.Lock()
	if r.op == proto.OpAuth {
		w.auths = append(w.auths, r)
	} else {
		w.pending = append(w.pending, r)
	}
	w.mu.Unlock()
	if _, err := w.bw.Write(enc.Bytes()); err != nil {
		return fmt.Errorf("write to %s: %w", w.addr, err)
	}
	return nil
}

// writeRaw writes a special frame (auth replay, setWatches) during priming,
// before the send loop starts.
func (w *wire) writeRaw(xid int32, op proto.OpCode, body proto.Record) error {
	frame := proto.AppendRequest(nil, proto.RequestHeader{Xid: xid, Type: op}, body)
	if len(frame)-4 > w.c.cfg.maxBuffer {
		return fmt.Errorf("%v frame: %w", op, ErrRequestTooLarge)
	}
	_, err := w.bw.Write(frame)
	return err
}

// replyOverhead is the room allowed above the buffer limit for a reply's
// header and Stat, so that a node holding the largest data the server
// accepts can still be read.
const replyOverhead = 1024

// recvLoop reads and dispatches every frame until the connection fails or
// stays silent for two thirds of the session timeout.
func (w *wire) recvLoop() {
	c := w.c
	readTimeout := w.timeout * 2 / 3
	var buf []byte
	for {
		w.nc.SetReadDeadline(time.Now().Add(readTimeout))
		frame, err := proto.ReadFrame(w.br, buf, c.cfg.maxBuffer+replyOverhead)
		if err != nil {
			w.shutdown(fmt.Errorf("read from %s: %w", w.addr, err))
			return
		}
		buf = frame[:0]
		c.heard()
		if err := w.handle(frame); err != nil {
			c.logger.Warn("zk: protocol error, dropping connection", "server", w.addr, "err", err)
			w.shutdown(err)
			return
		}
	}
}

// handle dispatches one reply frame.
func (w *wire) handle(frame []byte) error {
	c := w.c
	d := proto.NewDecoder(frame)
	d.MaxBuffer = c.cfg.maxBuffer
	var h proto.ReplyHeader
	if err := h.Decode(d); err != nil {
		return err
	}
	switch h.Xid {
	case proto.XidNotification:
		var ev proto.WatcherEvent
		if err := ev.Decode(d); err != nil {
			return err
		}
		c.watches.dispatch(ev, h.Zxid)
		return nil
	case proto.XidPing:
		return nil
	case proto.XidSetWatches:
		if h.Err != proto.OK {
			c.logger.Warn("zk: setWatches failed", "server", w.addr, "err", h.Err)
		}
		return nil
	case proto.XidAuth:
		w.mu.Lock()
		var r *request
		if len(w.auths) > 0 {
			r = w.auths[0]
			w.auths = w.auths[1:]
		}
		w.mu.Unlock()
		if h.Err == proto.ErrAuthFailed {
			c.authFailed(w)
		}
		if r != nil && r.state.CompareAndSwap(reqSent, reqReplying) {
			var err error
			if h.Err != proto.OK {
				err = h.Err
			}
			r.finish(0, err)
		}
		return nil
	}

	w.mu.Lock()
	if len(w.pending) == 0 {
		w.mu.Unlock()
		return fmt.Errorf("reply xid %d with no request pending", h.Xid)
	}
	r := w.pending[0]
	w.pending[0] = nil
	w.pending = w.pending[1:]
	w.mu.Unlock()
	if r.xid != h.Xid {
		r.fail(ErrConnectionLoss)
		return fmt.Errorf("reply xid %d out of order, expected %d", h.Xid, r.xid)
	}
	if h.Zxid > 0 {
		c.lastZxid.Store(h.Zxid)
	}
	if !r.state.CompareAndSwap(reqSent, reqReplying) {
		return nil // abandoned: nobody waits, and no watch is registered
	}
	var err error
	if h.Err != proto.OK {
		err = h.Err
	}
	if r.resp != nil && (h.Err == proto.OK || (r.bodyOnError && d.Remaining() > 0)) {
		if derr := r.resp.Decode(d); derr != nil {
			r.finish(0, fmt.Errorf("%w: %v reply: %w", ErrMarshallingError, r.op, derr))
			return derr
		}
	}
	if r.onReply != nil {
		r.onReply(h.Err)
	}
	r.finish(h.Zxid, err)
	return nil
}

// nextXid returns the next request xid: 1, 2, ... wrapping before the
// special negative xids could be reached.
func (c *Conn) nextXid() int32 {
	for {
		x := c.xid.Load()
		n := x + 1
		if x == math.MaxInt32 {
			n = 1
		}
		if c.xid.CompareAndSwap(x, n) {
			return n
		}
	}
}
