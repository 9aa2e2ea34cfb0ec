// Package lockorder gives mutexes a rank and, in race-detector builds,
// checks that every goroutine takes them in increasing rank order: taking a
// lock while holding one of equal or higher rank panics with both names.
// Two code paths that take the same pair of locks in opposite orders can
// deadlock only under rare timing, which tests do not hit; the rank check
// fails on either path as soon as it runs once.
//
// Without the race detector the checks compile away and a Mutex costs what
// a sync.Mutex costs plus two words.
//
// The ranks of a program are declared where its locks are, with a Checker
// that tracks what each goroutine holds. Locks must be unlocked by the
// goroutine that locked them.
package lockorder

// Rank orders locks: a goroutine may take a lock only while every lock it
// holds has a lower rank.
type Rank struct {
	Level int    // lower levels are taken first
	Name  string // for the panic message, e.g. "database.mu"
}
