package client

import (
	"errors"

	"github.com/zkgo/zkgo/proto"
)

// Server error codes, re-exported from package proto so that callers can write
// errors.Is(err, client.ErrNoNode). Every error returned by an operation that
// the server answered with a code wraps that code.
const (
	ErrSystemError              = proto.ErrSystemError
	ErrRuntimeInconsistency     = proto.ErrRuntimeInconsistency
	ErrDataInconsistency        = proto.ErrDataInconsistency
	ErrConnectionLoss           = proto.ErrConnectionLoss
	ErrMarshallingError         = proto.ErrMarshallingError
	ErrUnimplemented            = proto.ErrUnimplemented
	ErrOperationTimeout         = proto.ErrOperationTimeout
	ErrBadArguments             = proto.ErrBadArguments
	ErrUnknownSession           = proto.ErrUnknownSession
	ErrNewConfigNoQuorum        = proto.ErrNewConfigNoQuorum
	ErrReconfigInProgress       = proto.ErrReconfigInProgress
	ErrAPIError                 = proto.ErrAPIError
	ErrNoNode                   = proto.ErrNoNode
	ErrNoAuth                   = proto.ErrNoAuth
	ErrBadVersion               = proto.ErrBadVersion
	ErrNoChildrenForEphemerals  = proto.ErrNoChildrenForEphemerals
	ErrNodeExists               = proto.ErrNodeExists
	ErrNotEmpty                 = proto.ErrNotEmpty
	ErrSessionExpired           = proto.ErrSessionExpired
	ErrInvalidCallback          = proto.ErrInvalidCallback
	ErrInvalidACL               = proto.ErrInvalidACL
	ErrAuthFailed               = proto.ErrAuthFailed
	ErrSessionMoved             = proto.ErrSessionMoved
	ErrNotReadOnly              = proto.ErrNotReadOnly
	ErrEphemeralOnLocalSession  = proto.ErrEphemeralOnLocalSession
	ErrNoWatcher                = proto.ErrNoWatcher
	ErrRequestTimeout           = proto.ErrRequestTimeout
	ErrReconfigDisabled         = proto.ErrReconfigDisabled
	ErrSessionClosedRequireSASL = proto.ErrSessionClosedRequireSASL
	ErrQuotaExceeded            = proto.ErrQuotaExceeded
	ErrThrottledOp              = proto.ErrThrottledOp
)

// Client-side errors.
var (
	// ErrClosed is returned by operations on a Conn after Close.
	ErrClosed = errors.New("client: connection closed")
	// ErrRequestTooLarge is returned, without sending anything, for a request
	// whose frame exceeds the buffer limit (see WithMaxBufferSize). Apache
	// ZooKeeper would drop the connection instead.
	ErrRequestTooLarge = errors.New("client: request larger than the frame limit")
	// ErrInvalidPath is returned for a malformed path before anything is
	// sent. It wraps ErrBadArguments, the code a server gives for such paths.
	ErrInvalidPath = &pathError{}
)

// pathError is the type of ErrInvalidPath: errors.Is matches both it and
// ErrBadArguments.
type pathError struct{}

func (*pathError) Error() string { return "client: invalid path" }
func (*pathError) Unwrap() error { return ErrBadArguments }

// OpError records a failed operation with the path it was given (as the
// caller wrote it, without chroot or namespace). Err is a proto.Code for
// errors the server reported, or a client error such as ErrClosed or a
// context error.
type OpError struct {
	Op   string // ZooKeeper op name, e.g. "create", "getData"
	Path string // empty for session-level ops
	Err  error
}

// Error implements error.
func (e *OpError) Error() string {
	if e.Path == "" {
		return "zk: " + e.Op + ": " + e.Err.Error()
	}
	return "zk: " + e.Op + " " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *OpError) Unwrap() error { return e.Err }

func opError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var oe *OpError
	if errors.As(err, &oe) && oe.Op == op && oe.Path == path {
		return err
	}
	return &OpError{Op: op, Path: path, Err: err}
}
