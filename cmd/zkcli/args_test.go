package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplitLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"ls /", []string{"ls", "/"}},
		{"  ls \t /a  ", []string{"ls", "/a"}},
		{`create /a "hello world"`, []string{"create", "/a", "hello world"}},
		{`create /a 'it is'`, []string{"create", "/a", "it is"}},
		{`create /a ""`, []string{"create", "/a", ""}},
		{`set /a "a'b"`, []string{"set", "/a", "a'b"}},
		{`set /a it's`, []string{"set", "/a", "it's"}},
		{`set /a x"y z"`, []string{"set", "/a", `x"y`, `z"`}},
		{`set /a "unterminated`, []string{"set", "/a", "unterminated"}},
		{`set /a "q"rest`, []string{"set", "/a", "q", "rest"}},
		{"", nil},
		{"   ", nil},
	} {
		if got := splitLine(tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("splitLine(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	set := &optSet{opts: []opt{{name: "s"}, {name: "e"}, {name: "v", hasArg: true}, {name: "file", hasArg: true}}}
	for _, tc := range []struct {
		words   []string
		args    []string
		opts    string // "name=value" of each option given, space separated
		wantErr string
	}{
		{words: []string{"c", "/a"}, args: []string{"c", "/a"}},
		{words: []string{"c", "-s", "/a", "-e"}, args: []string{"c", "/a"}, opts: "s= e="},
		{words: []string{"c", "-se", "/a"}, args: []string{"c", "/a"}, opts: "s= e="},
		{words: []string{"c", "-v", "3", "/a"}, args: []string{"c", "/a"}, opts: "v=3"},
		{words: []string{"c", "-v3", "/a"}, args: []string{"c", "/a"}, opts: "v=3"},
		{words: []string{"c", "-v=3", "/a"}, args: []string{"c", "/a"}, opts: "v=3"},
		{words: []string{"c", "-sv", "3", "/a"}, args: []string{"c", "/a"}, opts: "s= v=3"},
		{words: []string{"c", "-v", "-1", "/a"}, args: []string{"c", "/a"}, opts: "v=-1"},
		{words: []string{"c", "-v", "-x", "/a"}, args: []string{"c", "/a"}, opts: "v=-x"},
		{words: []string{"c", "-file", "f", "/a"}, args: []string{"c", "/a"}, opts: "file=f"},
		{words: []string{"c", "--", "-s", "/a"}, args: []string{"c", "-s", "/a"}},
		{words: []string{"c", "-", "/a"}, args: []string{"c", "-", "/a"}},
		{words: []string{"c", "-x"}, wantErr: "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x"},
		{words: []string{"c", "-sx"}, wantErr: "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -sx"},
		{words: []string{"c", "--s"}, wantErr: "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: --s"},
		{words: []string{"c", "/a", "-1"}, wantErr: "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -1"},
		{words: []string{"c", "-s=1"}, wantErr: "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -s=1"},
		{words: []string{"c", "/a", "-v"}, wantErr: "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v"},
		{words: []string{"c", "-v", "-s"}, wantErr: "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v"},
	} {
		p, err := parseArgs(set, tc.words)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("parseArgs(%q) error = %v, want %q", tc.words, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tc.words, err)
			continue
		}
		var opts []string
		for _, o := range p.opts {
			opts = append(opts, o.name+"="+o.value)
		}
		if !slices.Equal(p.args, tc.args) || strings.Join(opts, " ") != tc.opts {
			t.Errorf("parseArgs(%q) = args %q opts %q, want %q %q", tc.words, p.args, opts, tc.args, tc.opts)
		}
	}
}

func TestParseArgsGroup(t *testing.T) {
	set := quotaOpts(true, true)
	if _, err := parseArgs(set, []string{"setquota", "-n", "1", "-b", "2", "/a"}); err == nil ||
		err.Error() != "org.apache.commons.cli.AlreadySelectedException: The option 'b' was specified but an option "+
			"from this group has already been selected: 'n'" {
		t.Errorf("two options of a group: %v", err)
	}
	if _, err := parseArgs(set, []string{"setquota", "/a"}); err == nil ||
		err.Error() != "org.apache.commons.cli.MissingOptionException: Missing required option: "+
			"[-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]" {
		t.Errorf("no option of a required group: %v", err)
	}
	p, err := parseArgs(set, []string{"setquota", "-n", "1", "-n", "2", "/a"})
	if err != nil || p.value("n") != "1" {
		t.Errorf("repeated option: %v %v", p, err)
	}
}

func TestJavaNumbers(t *testing.T) {
	for s, want := range map[string]bool{"-1": true, "-1.5": true, "-1e3": true, "-NaN": true, "-Infinity": true,
		"-2d": true, "-inf": false, "-nan": false, "-1_0": false, "-x": false, "-": false, "": false} {
		if got := isJavaNumber(s); got != want {
			t.Errorf("isJavaNumber(%q) = %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]int{"7": 7, "0x10": 16, "#10": 16, "010": 8, "-3": -3, "0": 0} {
		if got, err := javaDecode(s); err != nil || got != want {
			t.Errorf("javaDecode(%q) = %d, %v, want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"x", "", "0x", "--1", "99999999999"} {
		if _, err := javaDecode(s); err == nil {
			t.Errorf("javaDecode(%q) succeeded", s)
		}
	}
}

func TestParseCmdLine(t *testing.T) {
	cl, err := parseCmdLine([]string{"-server", "h:1/c", "-timeout", "5000", "-r", "-foo", "ls", "-s", "/"})
	if err != nil {
		t.Fatal(err)
	}
	if cl.server != "h:1/c" || cl.timeout != 5*time.Second || !cl.ro || !slices.Equal(cl.words, []string{"ls", "-s", "/"}) {
		t.Errorf("parseCmdLine = %+v", cl)
	}
	cl, err = parseCmdLine(nil)
	if err != nil || cl.server != "localhost:2181" || cl.timeout != 30*time.Second || cl.words != nil {
		t.Errorf("defaults = %+v, %v", cl, err)
	}
	for _, args := range [][]string{{"-server"}, {"-timeout", "x"}, {"-timeout"}} {
		if _, err := parseCmdLine(args); err == nil {
			t.Errorf("parseCmdLine(%q) succeeded", args)
		}
	}
}
