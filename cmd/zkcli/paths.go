package main

import (
	"errors"
	"strconv"
	"unicode/utf16"
)

// validatePath checks a znode path as the Java client's PathUtils does
// before sending anything, returning its IllegalArgumentException message,
// which zkCli prints as is. Offsets count UTF-16 code units, as in Java.
func validatePath(path string, sequential bool) error {
	if sequential {
		path += "1"
	}
	if path == "" {
		return errors.New("Path length must be > 0")
	}
	if path[0] != '/' {
		return errors.New("Path must start with / character")
	}
	if len(path) == 1 {
		return nil
	}
	if path[len(path)-1] == '/' {
		return errors.New("Path must not end with / character")
	}
	chars := utf16.Encode([]rune(path))
	reason := ""
	lastc := uint16('/')
	for i := 1; i < len(chars); lastc, i = chars[i], i+1 {
		c := chars[i]
		at := strconv.Itoa(i)
		switch {
		case c == 0:
			reason = "null character not allowed @" + at
		case c == '/' && lastc == '/':
			reason = "empty node name specified @" + at
		case c == '.' && lastc == '.':
			if chars[i-2] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				reason = "relative paths not allowed @" + at
			}
		case c == '.':
			if chars[i-1] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				reason = "relative paths not allowed @" + at
			}
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0:
			reason = "invalid character @" + at
		}
		if reason != "" {
			return errors.New(`Invalid path string "` + path + `" caused by ` + reason)
		}
	}
	return nil
}
