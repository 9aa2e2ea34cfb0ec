package config

import (
	"sort"
	"strings"
)

// WordSet is a set of four-letter words (4lw.commands.whitelist). The member
// "*" stands for every word.
type WordSet map[string]struct{}

// FourLetterWords lists the four-letter words Apache ZooKeeper 3.8 knows.
func FourLetterWords() []string {
	return []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
		"mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs"}
}

// parseWordSet splits a whitelist on commas and blanks. srvr is always in
// the result, as in Apache ZooKeeper (zkServer.sh status depends on it).
func parseWordSet(v string) WordSet {
	s := WordSet{"srvr": {}}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		s[w] = struct{}{}
	}
	return s
}

// Contains reports whether word is enabled.
func (s WordSet) Contains(word string) bool {
	if _, all := s["*"]; all {
		return true
	}
	_, ok := s[word]
	return ok
}

// String lists the words sorted and comma-separated ("*" alone when every
// word is enabled), in the form 4lw.commands.whitelist accepts.
func (s WordSet) String() string {
	if _, all := s["*"]; all {
		return "*"
	}
	words := make([]string, 0, len(s))
	for w := range s {
		words = append(words, w)
	}
	sort.Strings(words)
	return strings.Join(words, ",")
}

// unknownWords returns the members that are neither "*" nor a known word.
func (s WordSet) unknownWords() []string {
	known := map[string]bool{"*": true}
	for _, w := range FourLetterWords() {
		known[w] = true
	}
	var out []string
	for w := range s {
		if !known[w] {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}
