package tree

import (
	"fmt"
	"strings"
)

// checkStore panics if a store broke a local invariant of the tree: a stored
// path that is invalid, a negative child count, or a node inserted under a
// missing parent. It runs only when invariants is set.
func (t *Tree) checkStore(old, cur *Node) {
	if cur == nil {
		return
	}
	p := cur.path()
	if old != nil && old.path() != p {
		panic(fmt.Sprintf("tree: %q replaced by %q", old.path(), p))
	}
	if r := pathProblem(p); r != "" {
		panic(fmt.Sprintf("tree: stored invalid path %q: %s", p, r))
	}
	if int(cur.slash) != strings.LastIndexByte(p, '/') {
		panic(fmt.Sprintf("tree: node %q has slash %d", p, cur.slash))
	}
	if cur.numChildren < 0 {
		panic(fmt.Sprintf("tree: %q has %d children", p, cur.numChildren))
	}
	if old == nil && p != "/" {
		parent, _, _ := splitParent(p)
		if _, ok := t.Get(parent); !ok {
			panic(fmt.Sprintf("tree: %q inserted without parent %q", p, parent))
		}
	}
}
