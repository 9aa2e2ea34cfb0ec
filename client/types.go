package client

import (
	"crypto/sha1"
	"encoding/base64"

	"github.com/zkgo/zkgo/proto"
)

// Wire types shared with package proto.
type (
	// Stat is a znode's metadata.
	Stat = proto.Stat
	// ACL grants permissions (PermRead|...) to an identity.
	ACL = proto.ACL
	// ID is an ACL identity: a scheme and an id within it.
	ID = proto.Id
	// ClientInfo is one identity of the session, as WhoAmI reports it.
	ClientInfo = proto.ClientInfo
	// CreateMode selects the kind of node Create makes.
	CreateMode = proto.CreateMode
	// EventType is the type of a watch event.
	EventType = proto.EventType
	// KeeperState is the session state carried by a watch event.
	KeeperState = proto.KeeperState
	// WatcherType selects watches in RemoveWatches.
	WatcherType = proto.WatcherType
)

// Create modes.
const (
	Persistent              = proto.ModePersistent
	Ephemeral               = proto.ModeEphemeral
	PersistentSequential    = proto.ModePersistentSequential
	EphemeralSequential     = proto.ModeEphemeralSequential
	Container               = proto.ModeContainer
	PersistentTTL           = proto.ModePersistentWithTTL
	PersistentSequentialTTL = proto.ModePersistentSequentialWithTTL
)

// Event types.
const (
	EventNone                   = proto.EventNone
	EventNodeCreated            = proto.EventNodeCreated
	EventNodeDeleted            = proto.EventNodeDeleted
	EventNodeDataChanged        = proto.EventNodeDataChanged
	EventNodeChildrenChanged    = proto.EventNodeChildrenChanged
	EventDataWatchRemoved       = proto.EventDataWatchRemoved
	EventChildWatchRemoved      = proto.EventChildWatchRemoved
	EventPersistentWatchRemoved = proto.EventPersistentWatchRemoved
)

// Keeper states found in events: node events carry KeeperSyncConnected; the
// final event of a watch carries KeeperExpired, KeeperAuthFailed or
// KeeperClosed.
const (
	KeeperDisconnected  = proto.StateDisconnected
	KeeperSyncConnected = proto.StateSyncConnected
	KeeperAuthFailed    = proto.StateAuthFailed
	KeeperReadOnly      = proto.StateConnectedReadOnly
	KeeperExpired       = proto.StateExpired
	KeeperClosed        = proto.StateClosed
)

// Watcher types for RemoveWatches. WatcherPersistent and
// WatcherPersistentRecursive need a 3.9+ server; WatcherAny also removes
// persistent watches on older ones.
const (
	WatcherChildren            = proto.WatcherChildren
	WatcherData                = proto.WatcherData
	WatcherAny                 = proto.WatcherAny
	WatcherPersistent          = proto.WatcherPersistent
	WatcherPersistentRecursive = proto.WatcherPersistentRecursive
)

// Permission bits of an ACL.
const (
	PermRead   = proto.PermRead
	PermWrite  = proto.PermWrite
	PermCreate = proto.PermCreate
	PermDelete = proto.PermDelete
	PermAdmin  = proto.PermAdmin
	PermAll    = proto.PermAll
)

// OpenACL gives everyone every permission (ZooDefs.Ids.OPEN_ACL_UNSAFE), the
// default ACL of Create.
func OpenACL() []ACL { return WorldACL(PermAll) }

// WorldACL gives everyone perms.
func WorldACL(perms int32) []ACL {
	return []ACL{{Perms: perms, ID: ID{Scheme: "world", ID: "anyone"}}}
}

// CreatorAllACL gives every permission to the identities the session has
// authenticated as (ZooDefs.Ids.CREATOR_ALL_ACL). The server answers
// ErrInvalidACL if the session has none.
func CreatorAllACL() []ACL {
	return []ACL{{Perms: PermAll, ID: ID{Scheme: "auth", ID: ""}}}
}

// DigestACL grants perms to the digest user "user" with the given password,
// the identity a session gets from AddAuth("digest", "user:password").
func DigestACL(perms int32, user, password string) []ACL {
	return []ACL{{Perms: perms, ID: ID{Scheme: "digest", ID: DigestID(user, password)}}}
}

// DigestID returns the id of the digest scheme for user and password:
// "user:" + base64(sha1("user:password")), as DigestAuthenticationProvider
// computes it.
func DigestID(user, password string) string {
	sum := sha1.Sum([]byte(user + ":" + password))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}
