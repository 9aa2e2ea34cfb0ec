package jepsen

import (
	"os"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// op builds a history entry; ret == unknownReturn marks an unknown outcome.
func op(client int, call, ret int64, in input, out output) porcupine.Operation {
	if ret == unknownReturn {
		out.unknown = true
	}
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}

func write(key, value int) input { return input{kind: opWrite, key: key, value: value} }
func read(key int) input         { return input{kind: opRead, key: key} }
func cas(key int, version int32, value int) input {
	return input{kind: opCAS, key: key, version: version, value: value}
}
func wrote(version int32) output          { return output{version: version} }
func saw(value int, version int32) output { return output{value: value, version: version} }
func refused() output                     { return output{badVersion: true} }

// TestChecker feeds the checker histories whose verdict is known: it must
// accept what ZooKeeper may do and reject what it must not, so that the
// fault test can fail.
func TestChecker(t *testing.T) {
	tests := []struct {
		name    string
		history []porcupine.Operation
		ok      bool
	}{
		{"sequential", []porcupine.Operation{
			op(0, 0, 1, write(0, 5), wrote(1)),
			op(1, 2, 3, read(0), saw(5, 1)),
			op(0, 4, 5, cas(0, 1, 6), wrote(2)),
			op(1, 6, 7, cas(0, 1, 7), refused()),
			op(1, 8, 9, read(0), saw(6, 2)),
		}, true},
		{"concurrent writes in either order", []porcupine.Operation{
			op(0, 0, 10, write(0, 1), wrote(2)),
			op(1, 0, 10, write(0, 2), wrote(1)),
			op(2, 11, 12, read(0), saw(1, 2)),
		}, true},
		{"unknown write that took effect", []porcupine.Operation{
			op(0, 0, unknownReturn, write(0, 9), output{}),
			op(1, 5, 6, read(0), saw(9, 1)),
		}, true},
		{"unknown write that did not", []porcupine.Operation{
			op(0, 0, unknownReturn, write(0, 9), output{}),
			op(1, 5, 6, read(0), saw(0, 0)),
			op(1, 7, 8, write(0, 3), wrote(1)),
		}, true},
		{"keys are independent", []porcupine.Operation{
			op(0, 0, 1, write(0, 1), wrote(1)),
			op(1, 2, 3, read(1), saw(0, 0)),
		}, true},

		{"lost acknowledged write", []porcupine.Operation{
			op(0, 0, 1, write(0, 5), wrote(1)),
			op(1, 2, 3, read(0), saw(0, 0)),
		}, false},
		{"stale read after a newer read", []porcupine.Operation{
			op(0, 0, 1, write(0, 1), wrote(1)),
			op(0, 2, 3, write(0, 2), wrote(2)),
			op(1, 4, 5, read(0), saw(2, 2)),
			op(2, 6, 7, read(0), saw(1, 1)),
		}, false},
		{"CAS succeeded on a stale version", []porcupine.Operation{
			op(0, 0, 1, write(0, 1), wrote(1)),
			op(1, 2, 3, cas(0, 0, 7), wrote(1)),
		}, false},
		{"CAS refused on the current version", []porcupine.Operation{
			op(0, 0, 1, write(0, 1), wrote(1)),
			op(1, 2, 3, cas(0, 1, 7), refused()),
		}, false},
		{"two writes given one version", []porcupine.Operation{
			op(0, 0, 10, write(0, 1), wrote(1)),
			op(1, 0, 10, write(0, 2), wrote(1)),
		}, false},
		{"read of a value never written", []porcupine.Operation{
			op(0, 0, unknownReturn, write(0, 1), output{}),
			op(1, 2, 3, read(0), saw(2, 1)),
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := check(tc.history, 10*time.Second)
			if v.visualization != "" {
				defer os.RemoveAll(v.visualization[:len(v.visualization)-len("/history.html")])
			}
			if got := v.result == porcupine.Ok; got != tc.ok {
				t.Fatalf("check = %s, want ok=%v; history:\n%s", v.result, tc.ok, describe(tc.history))
			}
			if !tc.ok {
				if v.err != nil || v.visualization == "" {
					t.Fatalf("no visualization for an illegal history: %v", v.err)
				}
				if fi, err := os.Stat(v.visualization); err != nil || fi.Size() == 0 {
					t.Fatalf("visualization %s: %v", v.visualization, err)
				}
			}
		})
	}
}
