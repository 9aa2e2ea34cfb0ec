package proto

import "fmt"

// Code is a ZooKeeper error code as carried in ReplyHeader.err and in multi
// results. Every non-zero Code is an error, so errors.Is(err, proto.ErrNoNode)
// works on wrapped errors from both the client and the server.
type Code int32

// Error codes (KeeperException.Code).
const (
	OK                          Code = 0
	ErrSystemError              Code = -1
	ErrRuntimeInconsistency     Code = -2
	ErrDataInconsistency        Code = -3
	ErrConnectionLoss           Code = -4
	ErrMarshallingError         Code = -5
	ErrUnimplemented            Code = -6
	ErrOperationTimeout         Code = -7
	ErrBadArguments             Code = -8
	ErrUnknownSession           Code = -12
	ErrNewConfigNoQuorum        Code = -13
	ErrReconfigInProgress       Code = -14
	ErrAPIError                 Code = -100
	ErrNoNode                   Code = -101
	ErrNoAuth                   Code = -102
	ErrBadVersion               Code = -103
	ErrNoChildrenForEphemerals  Code = -108
	ErrNodeExists               Code = -110
	ErrNotEmpty                 Code = -111
	ErrSessionExpired           Code = -112
	ErrInvalidCallback          Code = -113
	ErrInvalidACL               Code = -114
	ErrAuthFailed               Code = -115
	ErrSessionMoved             Code = -118
	ErrNotReadOnly              Code = -119
	ErrEphemeralOnLocalSession  Code = -120
	ErrNoWatcher                Code = -121
	ErrRequestTimeout           Code = -122
	ErrReconfigDisabled         Code = -123
	ErrSessionClosedRequireSASL Code = -124
	ErrQuotaExceeded            Code = -125
	ErrThrottledOp              Code = -127
)

var codeNames = map[Code]string{
	OK:                          "OK",
	ErrSystemError:              "SystemError",
	ErrRuntimeInconsistency:     "RuntimeInconsistency",
	ErrDataInconsistency:        "DataInconsistency",
	ErrConnectionLoss:           "ConnectionLoss",
	ErrMarshallingError:         "MarshallingError",
	ErrUnimplemented:            "Unimplemented",
	ErrOperationTimeout:         "OperationTimeout",
	ErrBadArguments:             "BadArguments",
	ErrUnknownSession:           "UnknownSession",
	ErrNewConfigNoQuorum:        "NewConfigNoQuorum",
	ErrReconfigInProgress:       "ReconfigInProgress",
	ErrAPIError:                 "APIError",
	ErrNoNode:                   "NoNode",
	ErrNoAuth:                   "NoAuth",
	ErrBadVersion:               "BadVersion",
	ErrNoChildrenForEphemerals:  "NoChildrenForEphemerals",
	ErrNodeExists:               "NodeExists",
	ErrNotEmpty:                 "Directory not empty",
	ErrSessionExpired:           "Session expired",
	ErrInvalidCallback:          "Invalid callback",
	ErrInvalidACL:               "InvalidACL",
	ErrAuthFailed:               "AuthFailed",
	ErrSessionMoved:             "Session moved",
	ErrNotReadOnly:              "Not a read-only call",
	ErrEphemeralOnLocalSession:  "Ephemeral node on local session",
	ErrNoWatcher:                "No such watcher",
	ErrRequestTimeout:           "Request timeout",
	ErrReconfigDisabled:         "Reconfig is disabled",
	ErrSessionClosedRequireSASL: "Session closed because client failed to authenticate",
	ErrQuotaExceeded:            "Quota has exceeded",
	ErrThrottledOp:              "Op throttled due to high load",
}

// Name returns the name Apache ZooKeeper uses for the code in
// "KeeperErrorCode = <name>" messages.
func (c Code) Name() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("Unknown(%d)", int32(c))
}

// Error implements error in Apache ZooKeeper's wording.
func (c Code) Error() string { return "KeeperErrorCode = " + c.Name() }

// Known reports whether c is a code Apache ZooKeeper defines.
func (c Code) Known() bool { _, ok := codeNames[c]; return ok }

// AsCode returns the Code carried by err, OK for nil, and ErrSystemError for
// errors that carry no Code.
func AsCode(err error) Code {
	if err == nil {
		return OK
	}
	var c Code
	if asCode(err, &c) {
		return c
	}
	return ErrSystemError
}

func asCode(err error, c *Code) bool {
	for err != nil {
		if v, ok := err.(Code); ok {
			*c = v
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if asCode(e, c) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
