//go:build !race

package lockorder

// Enabled reports whether lock order is checked in this build.
const Enabled = false

// Checker tracks the ranked locks each goroutine holds; without the race
// detector it checks nothing.
type Checker struct{}

// NewChecker returns a Checker.
func NewChecker() *Checker { return &Checker{} }

func (*Checker) acquire(*Rank) {}
func (*Checker) release(*Rank) {}
