package jepsen

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// opKind is what a client did to a key.
type opKind uint8

const (
	// opRead is sync then getData on the same session: the only reads
	// ZooKeeper makes linearizable.
	opRead opKind = iota
	// opWrite is setData with version -1.
	opWrite
	// opCAS is setData with an expected version.
	opCAS
)

// input is an operation's call: on key, write or CAS value, CAS expecting
// version.
type input struct {
	kind    opKind
	key     int
	value   int   // written value (opWrite, opCAS)
	version int32 // expected version (opCAS)
}

// output is an operation's outcome. An unknown outcome (the connection
// was lost before the reply) may or may not have taken effect; its
// operation is recorded with a return time after every other event, so
// the checker may place it anywhere after its call, or nowhere.
type output struct {
	unknown    bool
	badVersion bool  // opCAS refused with BADVERSION: it had no effect
	value      int   // opRead: the value read
	version    int32 // opRead: the version read; opWrite, opCAS: the new version
}

// register is the state of one key: its value and data version. Every
// key starts as {0, 0}: created with the value "0".
type register struct {
	value   int
	version int32
}

// step is ZooKeeper's sequential specification of one key.
func step(st register, in input, out output) (bool, register) {
	switch in.kind {
	case opRead:
		if out.unknown {
			return true, st
		}
		return out.value == st.value && out.version == st.version, st
	case opWrite:
		next := register{in.value, st.version + 1}
		return out.unknown || out.version == next.version, next
	case opCAS:
		if st.version != in.version {
			// Refused: that is the only outcome a wrong version allows.
			return out.unknown || out.badVersion, st
		}
		next := register{in.value, st.version + 1}
		if out.unknown {
			return true, next
		}
		return !out.badVersion && out.version == next.version, next
	}
	return false, st
}

// model is the porcupine model of the workload: one register per key,
// checked key by key (linearizability is compositional).
var model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[int][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(input).key
			byKey[k] = append(byKey[k], op)
		}
		keys := make([]int, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		parts := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, byKey[k])
		}
		return parts
	},
	Init: func() any { return register{} },
	Step: func(state, in, out any) (bool, any) {
		return step(state.(register), in.(input), out.(output))
	},
	DescribeOperation: func(in, out any) string {
		i, o := in.(input), out.(output)
		var call string
		switch i.kind {
		case opRead:
			call = fmt.Sprintf("read(k%d)", i.key)
		case opWrite:
			call = fmt.Sprintf("write(k%d, %d)", i.key, i.value)
		case opCAS:
			call = fmt.Sprintf("cas(k%d, v%d, %d)", i.key, i.version, i.value)
		}
		switch {
		case o.unknown:
			return call + " -> ?"
		case o.badVersion:
			return call + " -> BADVERSION"
		case i.kind == opRead:
			return fmt.Sprintf("%s -> %d@v%d", call, o.value, o.version)
		default:
			return fmt.Sprintf("%s -> v%d", call, o.version)
		}
	},
	DescribeState: func(state any) string {
		st := state.(register)
		return fmt.Sprintf("%d@v%d", st.value, st.version)
	},
}

// verdict is the outcome of checking a history.
type verdict struct {
	result porcupine.CheckResult
	// visualization is the path of porcupine's HTML rendering of the
	// history, written when the result is not Ok ("" otherwise, or if it
	// could not be written: see err).
	visualization string
	err           error
}

// check closes the unknown operations of history (their return comes after
// every other event) and checks it against model within timeout. When the
// history is not shown linearizable, it writes porcupine's visualization
// into a new temporary directory that outlives the test.
func check(history []porcupine.Operation, timeout time.Duration) verdict {
	var last int64
	for _, op := range history {
		last = max(last, op.Call)
		if !op.Output.(output).unknown {
			last = max(last, op.Return)
		}
	}
	ops := make([]porcupine.Operation, len(history))
	for i, op := range history {
		if op.Output.(output).unknown {
			op.Return = last + 1
		}
		ops[i] = op
	}
	res, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	v := verdict{result: res}
	if res == porcupine.Ok {
		return v
	}
	dir, err := os.MkdirTemp("", "zkgo-jepsen-")
	if err != nil {
		v.err = err
		return v
	}
	path := filepath.Join(dir, "history.html")
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		v.err = err
		return v
	}
	v.visualization = path
	return v
}

// unknownReturn is the return time recorded for an operation whose outcome
// is unknown until check closes it.
const unknownReturn = math.MaxInt64

// describe renders a history for a log, one operation a line.
func describe(history []porcupine.Operation) string {
	var b strings.Builder
	for _, op := range history {
		ret := fmt.Sprint(op.Return)
		if op.Return == unknownReturn {
			ret = "?"
		}
		fmt.Fprintf(&b, "client %d [%d, %s] %s\n", op.ClientId, op.Call, ret, model.DescribeOperation(op.Input, op.Output))
	}
	return b.String()
}
