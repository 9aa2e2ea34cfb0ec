package differential

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// errConnLost wraps every failure to read or write the socket other than a
// timeout: the server closed or reset the connection.
var errConnLost = errors.New("differential: connection lost")

// errTimeout wraps a reply that did not come in time.
var errTimeout = errors.New("differential: timed out waiting for the server")

// maxReply bounds the frames the test client accepts. It is larger than
// jute.maxbuffer on purpose: the test must see what a server sends, not
// reject it.
const maxReply = 16 << 20

// event is one watch notification as received.
type event struct {
	zxid int64 // the notification's ReplyHeader zxid
	ev   proto.WatcherEvent
}

// conn is a minimal synchronous ZooKeeper client connection: it sends one
// request, then reads frames until the matching reply, collecting the
// notifications that arrive before it. It is used by one goroutine at a time.
type conn struct {
	nc      net.Conn
	br      *bufio.Reader
	xid     int32
	timeout time.Duration // for one reply
	buf     []byte
	// stalled, if set, is called once per reply still missing after
	// stallAfter; see side.nudge.
	stalled func()
}

// stallAfter is how long a reply may take before conn.stalled is called.
const stallAfter = 2 * time.Second

// dial opens a TCP connection and performs the connect handshake. A closed
// connection with an expired session (SessionID 0) is returned with the
// response and no error; the caller closes it.
// stalled, if not nil, is called if the response takes longer than
// stallAfter (see conn.stalled).
func dial(ctx context.Context, addr string, req *proto.ConnectRequest, timeout time.Duration, stalled func()) (*conn, *proto.ConnectResponse, error) {
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := &conn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), timeout: timeout}
	var e proto.Encoder
	mark := proto.BeginFrame(&e)
	req.Encode(&e)
	proto.EndFrame(&e, mark)
	if err := c.write(e.Bytes()); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("connect request to %s: %w", addr, err)
	}
	if stalled != nil {
		c.stalled = stalled
		c.waitOrNudge()
		c.stalled = nil
	}
	payload, err := c.readFrame()
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("connect response from %s: %w", addr, err)
	}
	var resp proto.ConnectResponse
	if err := proto.Decode(payload, &resp); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("connect response from %s: %w", addr, err)
	}
	return c, &resp, nil
}

// close closes the socket without a closeSession request.
func (c *conn) close() { c.nc.Close() }

func classify(err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: %v", errTimeout, err)
	}
	return fmt.Errorf("%w: %v", errConnLost, err)
}

func (c *conn) write(frame []byte) error {
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return classify(err)
	}
	_, err := c.nc.Write(frame)
	return classify(err)
}

func (c *conn) readFrame() ([]byte, error) {
	if err := c.nc.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, classify(err)
	}
	p, err := proto.ReadFrame(c.br, c.buf[:0], maxReply)
	if err != nil {
		if errors.Is(err, proto.ErrMalformed) || errors.Is(err, proto.ErrFrameTooLarge) {
			return nil, err
		}
		return nil, classify(err)
	}
	c.buf = p
	return p, nil
}

// nextXid returns the xid for the next numbered request.
func (c *conn) nextXid() int32 {
	c.xid++
	return c.xid
}

// send writes one request frame.
func (c *conn) send(xid int32, op proto.OpCode, req proto.Record) error {
	frame := proto.AppendRequest(nil, proto.RequestHeader{Xid: xid, Type: op}, req)
	return c.write(frame)
}

// reply is a server reply with its raw body.
type reply struct {
	hdr  proto.ReplyHeader
	body []byte
}

// await reads frames until the reply with the given xid, returning it and the
// notifications read before it. Events read before an error are returned too.
func (c *conn) await(xid int32) (reply, []event, error) {
	var evs []event
	nudged := c.stalled == nil
	for {
		if !nudged {
			nudged = true
			c.waitOrNudge()
		}
		p, err := c.readFrame()
		if err != nil {
			return reply{}, evs, err
		}
		d := proto.NewDecoder(p)
		var h proto.ReplyHeader
		if err := h.Decode(d); err != nil {
			return reply{}, evs, fmt.Errorf("reply header: %w", err)
		}
		body := append([]byte(nil), d.Rest()...)
		if h.Xid == proto.XidNotification {
			var ev proto.WatcherEvent
			if err := proto.Decode(body, &ev); err != nil {
				return reply{}, evs, fmt.Errorf("notification: %w", err)
			}
			evs = append(evs, event{zxid: h.Zxid, ev: ev})
			continue
		}
		if h.Xid != xid {
			return reply{}, evs, fmt.Errorf("protocol: got reply xid %d (err %v), want %d", h.Xid, h.Err, xid)
		}
		return reply{hdr: h, body: body}, evs, nil
	}
}

// waitOrNudge waits up to stallAfter for the next frame to start and calls
// c.stalled if it has not; the frame is then read as usual (a failed Peek
// consumes nothing).
func (c *conn) waitOrNudge() {
	if err := c.nc.SetReadDeadline(time.Now().Add(stallAfter)); err != nil {
		return
	}
	var ne net.Error
	if _, err := c.br.Peek(1); errors.As(err, &ne) && ne.Timeout() {
		c.stalled()
	}
}

// call sends one request and awaits its reply.
func (c *conn) call(xid int32, op proto.OpCode, req proto.Record) (reply, []event, error) {
	if err := c.send(xid, op, req); err != nil {
		return reply{}, nil, err
	}
	return c.await(xid)
}

// drainUntilClosed reads until the server closes the connection, returning
// the notifications read; it fails if a reply arrives or the connection stays
// open for the timeout.
func (c *conn) drainUntilClosed() ([]event, error) {
	_, evs, err := c.await(1 << 30)
	if errors.Is(err, errConnLost) {
		return evs, nil
	}
	if err == nil {
		err = errors.New("unexpected reply")
	}
	return evs, err
}
