package config

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// property is one key/value pair of a properties file, with the number of
// the natural line its logical line starts on.
type property struct {
	Key   string
	Value string
	Line  int
}

// readProperties splits r into key/value pairs the way java.util.Properties.load
// does: '#' and '!' comment lines, a key ending at the first unescaped '=', ':'
// or blank, a line ending in an odd number of backslashes continuing on the next
// line (whose leading blanks are dropped), and the escapes \t \n \r \f \uXXXX
// and \<any> in keys and values. Pairs come back in file order; duplicates are
// kept, so the caller decides that the last one wins. Java's corner cases
// (checked against java.util.Properties by TestReadPropertiesMatchesJava) are
// reproduced, e.g. a line holding only a backslash continues into a line that
// may then be a comment.
//
// Two deliberate differences: the input is read as UTF-8 rather than ISO-8859-1
// (a UTF-8 zoo.cfg with non-ASCII paths is what people write), and a leading
// UTF-8 byte order mark is ignored.
func readProperties(r io.Reader) ([]property, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var props []property
	for _, l := range logicalLines(data) {
		key, value, err := splitKeyValue(l.text)
		if err != nil {
			return nil, &syntaxError{line: l.line, msg: err.Error()}
		}
		props = append(props, property{Key: key, Value: value, Line: l.line})
	}
	return props, nil
}

// syntaxError is a malformed line of a properties file.
type syntaxError struct {
	line int
	msg  string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

type logicalLine struct {
	text string
	line int // natural line the text starts on
}

// logicalLines joins continuation lines and drops blank and comment lines.
// All significant characters are ASCII, so working on bytes is safe for UTF-8.
func logicalLines(data []byte) []logicalLine {
	var (
		out       []logicalLine
		buf       []byte
		startLine int
		line      = 1    // current natural line
		skipBlank = true // dropping blanks at the start of a (continued) line
		continued = false
		oddSlash  = false // buf ends in an odd number of backslashes
		skipLF    = false // the previous byte was a '\r' ending a line
	)
	emit := func() {
		text := buf
		if oddSlash {
			text = text[:len(text)-1]
		}
		out = append(out, logicalLine{text: string(text), line: startLine})
		buf, oddSlash, continued, skipBlank = buf[:0:0], false, false, true
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		if skipLF {
			skipLF = false
			if c == '\n' {
				continue
			}
		}
		if c == '\n' || c == '\r' {
			line++
			skipLF = c == '\r'
		}
		if skipBlank {
			if isBlank(c) || (!continued && (c == '\n' || c == '\r')) {
				continue
			}
			skipBlank, continued = false, false
		}
		if len(buf) == 0 && (c == '#' || c == '!') {
			// A comment runs to the end of its natural line, even when that
			// ends in a backslash.
			for i+1 < len(data) && data[i+1] != '\n' && data[i+1] != '\r' {
				i++
			}
			skipBlank = true
			continue
		}
		if c != '\n' && c != '\r' {
			if len(buf) == 0 {
				startLine = line
			}
			buf = append(buf, c)
			oddSlash = c == '\\' && !oddSlash
			continue
		}
		switch {
		case len(buf) == 0:
			skipBlank = true
		case i+1 == len(data):
			// The input ends with this line break: the line is complete.
			emit()
		case oddSlash:
			buf = buf[:len(buf)-1]
			oddSlash = false
			skipBlank, continued = true, true
		default:
			emit()
		}
	}
	if len(buf) > 0 {
		emit()
	}
	return out
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// splitKeyValue splits a logical line (leading blanks already removed) into
// its unescaped key and value.
func splitKeyValue(line string) (string, string, error) {
	keyEnd := len(line)
	valueStart := len(line)
	escaped := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if escaped {
			escaped = false
			continue
		}
		if c == '\\' {
			escaped = true
			continue
		}
		if c == '=' || c == ':' {
			keyEnd, valueStart = i, i+1
			break
		}
		if isBlank(c) {
			keyEnd = i
			j := i
			for j < len(line) && isBlank(line[j]) {
				j++
			}
			if j < len(line) && (line[j] == '=' || line[j] == ':') {
				j++
			}
			valueStart = j
			break
		}
	}
	key, err := unescape(line[:keyEnd])
	if err != nil {
		return "", "", err
	}
	value, err := unescape(strings.TrimLeft(line[valueStart:], " \t\f"))
	if err != nil {
		return "", "", err
	}
	return key, value, nil
}

// unescape resolves the escapes java.util.Properties understands.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf("malformed \\uxxxx escape %q", s[i-1:])
			}
			v, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf("malformed \\uxxxx escape %q", s[i-1:i+5])
			}
			b.WriteRune(rune(v))
			i += 4
		default:
			// \<any> is that character; copy a whole UTF-8 sequence.
			_, size := utf8.DecodeRuneInString(s[i:])
			b.WriteString(s[i : i+size])
			i += size - 1
		}
	}
	return b.String(), nil
}

// escapeValue is the inverse of unescape for values written by Config.String:
// backslashes and control characters are escaped.
func escapeValue(s string) string {
	if !strings.ContainsAny(s, "\\\t\n\r\f") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\f", `\f`).Replace(s)
}
