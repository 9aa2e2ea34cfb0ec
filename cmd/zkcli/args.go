package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// splitLine breaks an interactive command line into words as zkCli does
// (ZooKeeperMain's ARGS_PATTERN): words are separated by whitespace; a word
// starting with a quote runs to the matching quote and loses both quotes,
// even if more text follows; a quote with no match is dropped.
func splitLine(line string) []string {
	var words []string
	i := 0
	for i < len(line) {
		for i < len(line) && isJavaSpace(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		switch c := line[i]; c {
		case '"', '\'':
			end := strings.IndexByte(line[i+1:], c)
			if end < 0 {
				i++ // unmatched: the regex skips the quote character
				continue
			}
			words = append(words, line[i+1:i+1+end])
			i += end + 2
		default:
			j := i
			for j < len(line) && !isJavaSpace(line[j]) {
				j++
			}
			words = append(words, line[i:j])
			i = j
		}
	}
	return words
}

// isJavaSpace is the regex class \s: [ \t\n\x0B\f\r].
func isJavaSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// opt describes one option of a command, as Apache Commons CLI's Option.
type opt struct {
	name   string
	hasArg bool
	desc   string
}

// optGroup is a set of mutually exclusive options (Commons CLI's
// OptionGroup), at most one of which may be given.
type optGroup struct {
	names    []string
	required bool
}

// optSet is the options of a command.
type optSet struct {
	opts  []opt
	group *optGroup
}

func (s *optSet) lookup(name string) (opt, bool) {
	for _, o := range s.opts {
		if o.name == name {
			return o, true
		}
	}
	return opt{}, false
}

// cliError is a failed parse, with the message zkCli prints: Commons CLI's
// exception class and message.
type cliError struct {
	class string // e.g. "UnrecognizedOptionException"
	msg   string
}

func (e *cliError) Error() string { return "org.apache.commons.cli." + e.class + ": " + e.msg }

// parsedArgs is a parsed command line: the options given, in order, with
// their values, and the remaining arguments (the command name first).
type parsedArgs struct {
	opts []optValue
	args []string
}

type optValue struct {
	name  string
	value string
	set   bool // value was given
}

// has reports whether option name was given.
func (p *parsedArgs) has(name string) bool {
	for _, o := range p.opts {
		if o.name == name {
			return true
		}
	}
	return false
}

// value returns the value of the first occurrence of option name.
func (p *parsedArgs) value(name string) string {
	for _, o := range p.opts {
		if o.name == name {
			return o.value
		}
	}
	return ""
}

// parseArgs parses words with the rules of Commons CLI 1.5's DefaultParser,
// which zkCli's commands use, so that the same command lines are accepted
// and rejected with the same messages: options may come after arguments,
// "-abc" is several flags, "-v5" is an option with its value, "--" ends the
// options, and a value may look like a negative number.
func parseArgs(set *optSet, words []string) (*parsedArgs, error) {
	ps := &argParser{set: set, cur: -1}
	for _, tok := range words {
		if err := ps.token(tok); err != nil {
			return nil, err
		}
	}
	if err := ps.missingArg(); err != nil {
		return nil, err
	}
	if g := set.group; g != nil && g.required && ps.selected == "" {
		var b strings.Builder
		b.WriteByte('[')
		for i, n := range g.names {
			if i > 0 {
				b.WriteString(", ")
			}
			o, _ := set.lookup(n)
			b.WriteString("-" + o.name)
			if o.desc != "" {
				b.WriteString(" " + o.desc)
			}
		}
		b.WriteByte(']')
		return nil, &cliError{"MissingOptionException", "Missing required option: " + b.String()}
	}
	return &ps.parsedArgs, nil
}

// argParser is the state of one parseArgs run.
type argParser struct {
	parsedArgs
	set      *optSet
	cur      int    // index in opts of the option awaiting its value, or -1
	skip     bool   // "--" seen: the rest are arguments
	selected string // option of the group given so far
}

// token handles one word, as DefaultParser.handleToken.
func (ps *argParser) token(tok string) error {
	switch {
	case ps.skip:
		ps.args = append(ps.args, tok)
	case ps.awaiting() && (!ps.isShortOption(tok) || isJavaNumber(tok)):
		ps.addValue(tok)
	case tok == "--":
		ps.skip = true
	case tok == "-":
		ps.args = append(ps.args, tok)
	case strings.HasPrefix(tok, "--"):
		return ps.unknown(tok)
	case strings.HasPrefix(tok, "-"):
		return ps.short(tok)
	default:
		ps.args = append(ps.args, tok)
	}
	return nil
}

func (ps *argParser) awaiting() bool { return ps.cur >= 0 && !ps.opts[ps.cur].set }

func (ps *argParser) missingArg() error {
	if ps.awaiting() {
		return &cliError{"MissingArgumentException", "Missing argument for option: " + ps.opts[ps.cur].name}
	}
	return nil
}

// handle records option o, as DefaultParser.handleOption.
func (ps *argParser) handle(o opt) error {
	if err := ps.missingArg(); err != nil {
		return err
	}
	if g := ps.set.group; g != nil && slices.Contains(g.names, o.name) {
		if ps.selected != "" && ps.selected != o.name {
			return &cliError{"AlreadySelectedException", "The option '" + o.name +
				"' was specified but an option from this group has already been selected: '" + ps.selected + "'"}
		}
		ps.selected = o.name
	}
	ps.opts = append(ps.opts, optValue{name: o.name})
	ps.cur = -1
	if o.hasArg {
		ps.cur = len(ps.opts) - 1
	}
	return nil
}

func (ps *argParser) addValue(v string) { ps.opts[ps.cur].value, ps.opts[ps.cur].set = v, true }

func (ps *argParser) unknown(tok string) error {
	if strings.HasPrefix(tok, "-") && len(tok) > 1 {
		return &cliError{"UnrecognizedOptionException", "Unrecognized option: " + tok}
	}
	ps.args = append(ps.args, tok)
	return nil
}

// isShortOption is DefaultParser.isShortOption: "-x", "-x=v" or "-xyz" whose
// first letter is an option.
func (ps *argParser) isShortOption(tok string) bool {
	if !strings.HasPrefix(tok, "-") || len(tok) == 1 {
		return false
	}
	name := tok[1:]
	if i := strings.IndexByte(name, '='); i >= 0 {
		name = name[:i]
	}
	if _, ok := ps.set.lookup(name); ok {
		return true
	}
	if name == "" {
		return false
	}
	_, ok := ps.set.lookup(name[:1])
	return ok
}

// short handles a token starting with a single "-", as
// DefaultParser.handleShortAndLongOption (no command has long options).
func (ps *argParser) short(tok string) error {
	t := tok[1:]
	eq := strings.IndexByte(t, '=')
	if o, ok := ps.set.lookup(t); ok && eq < 0 {
		return ps.handle(o)
	}
	if len(t) == 1 {
		return ps.unknown(tok)
	}
	if eq >= 0 {
		name, val := t[:eq], t[eq+1:]
		if o, ok := ps.set.lookup(name); ok && len(name) == 1 && o.hasArg {
			if err := ps.handle(o); err != nil {
				return err
			}
			ps.addValue(val)
			return nil
		}
		return ps.unknown(tok)
	}
	// Concatenated flags, or a flag followed by its value ("-v5").
	for i := 1; i < len(tok); i++ {
		o, ok := ps.set.lookup(tok[i : i+1])
		if !ok {
			return ps.unknown(tok)
		}
		if err := ps.handle(o); err != nil {
			return err
		}
		if o.hasArg && i+1 < len(tok) {
			ps.addValue(tok[i+1:])
			return nil
		}
	}
	return nil
}

// isJavaNumber reports whether Java's Double.parseDouble accepts s, which
// DefaultParser uses to let negative numbers be option values ("-v -1").
func isJavaNumber(s string) bool {
	t := strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	if t != "" && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	if t == "NaN" || t == "Infinity" {
		return true
	}
	if n := len(t); n > 0 && strings.IndexByte("dDfF", t[n-1]) >= 0 && !strings.HasPrefix(strings.ToLower(t), "0x") {
		t = t[:n-1]
	}
	// Go also accepts "inf", "nan" and digit separators; Java does not.
	if t == "" || strings.ContainsAny(t, "nNiI_") {
		return false
	}
	_, err := strconv.ParseFloat(t, 64)
	var ne *strconv.NumError
	return err == nil || errors.As(err, &ne) && ne.Err == strconv.ErrRange
}

// javaParseInt parses s as Java's Integer.parseInt: decimal with an
// optional sign.
func javaParseInt(s string) (int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("For input string: %q", s)
	}
	return int32(n), nil
}

// javaDecode parses s as Java's Integer.decode: decimal, 0x/0X/# hex or
// 0 octal, with an optional sign.
func javaDecode(s string) (int, error) {
	t, neg := s, false
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
		neg, t = t[0] == '-', t[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(t, "0x"), strings.HasPrefix(t, "0X"):
		base, t = 16, t[2:]
	case strings.HasPrefix(t, "#"):
		base, t = 16, t[1:]
	case strings.HasPrefix(t, "0") && len(t) > 1:
		base, t = 8, t[1:]
	}
	if t == "" || t[0] == '-' || t[0] == '+' {
		return 0, fmt.Errorf("For input string: %q", s)
	}
	n, err := strconv.ParseInt(t, base, 64)
	if neg {
		n = -n
	}
	if err != nil || n < -1<<31 || n > 1<<31-1 {
		return 0, fmt.Errorf("For input string: %q", s)
	}
	return int(n), nil
}
