//go:build race

package tree

// invariants enables the cheap consistency checks run on every store. They
// are compiled into race builds (tests) only.
const invariants = true
