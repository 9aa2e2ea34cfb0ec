package lock

import (
	"strings"

	"github.com/zkgo/zkgo/client"
)

// Node names of Curator's InterProcessReadWriteLock. Both are eight
// characters, which Curator's sorting relies on.
const (
	readName  = "__READ__"
	writeName = "__WRIT__"
)

// RWMutex is a distributed read-write lock at a path, Curator's
// InterProcessReadWriteLock: readers and writers queue in one line of
// PATH/_c_<uuid>-__READ__NNNNNNNNNN and ...-__WRIT__NNNNNNNNNN nodes. A
// writer holds the lock when its node is first; a reader when no writer's
// node is ahead of its own, so readers share and a waiting writer keeps
// later readers out. Both sides are reentrant Mutexes, and the holder of
// the write side gets the read side at once (it may then release the write
// side and keep reading: a downgrade).
type RWMutex struct {
	r, w *Mutex
}

// NewRWMutex returns a read-write lock at path (Curator's
// InterProcessReadWriteLock(client, path, lockData)); WithData sets the
// data of both sides' nodes.
func NewRWMutex(c *client.Conn, path string, opts ...Option) *RWMutex {
	o := buildOptions(opts)
	names := []string{readName, writeName}
	rw := &RWMutex{}
	rw.w = newMutex(&queue{c: c, base: path, name: writeName, names: names, pred: standard(1), data: o.data})
	rw.r = newMutex(&queue{c: c, base: path, name: readName, names: names, pred: rw.readPredicate, data: o.data})
	return rw
}

// ReadLock returns the read side: many holders at once, none while a writer
// holds or waits ahead.
func (rw *RWMutex) ReadLock() *Mutex { return rw.r }

// WriteLock returns the write side: one holder, and no readers.
func (rw *RWMutex) WriteLock() *Mutex { return rw.w }

// readPredicate is Curator's ReadLock driver: granted if this RWMutex holds
// the write side, or if no write node comes before ours; otherwise wait for
// the first write node.
func (rw *RWMutex) readPredicate(children []string, ours string) (bool, string, error) {
	if rw.w.Held() {
		return true, "", nil
	}
	firstWrite := -1
	for i, name := range children {
		if strings.Contains(name, writeName) {
			if firstWrite < 0 {
				firstWrite = i
			}
			continue
		}
		if strings.HasPrefix(name, ours) {
			if firstWrite < 0 {
				return true, "", nil
			}
			return false, children[firstWrite], nil
		}
	}
	return false, "", errNodeGone
}
