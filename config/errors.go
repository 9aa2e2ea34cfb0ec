package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every error that reports a bad
// configuration, as opposed to an I/O error reading it.
var ErrInvalid = errors.New("config: invalid configuration")

// Error describes one bad setting. It matches ErrInvalid.
type Error struct {
	File string // file name as given to Parse or Load; may be empty
	Line int    // 1-based line the setting starts on; 0 when not known
	Key  string // the zoo.cfg key; empty for problems not tied to one key
	Msg  string // what is wrong, quoting the offending value
}

// Error formats e as "file:line: key: msg", leaving out the parts that are
// unknown, e.g. `zoo.cfg:3: tickTime: invalid integer "abc"`.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	default:
		b.WriteString("config: ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }
