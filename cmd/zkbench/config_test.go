package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsDefaults(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		servers: []string{"127.0.0.1:2181"}, sessions: 8, outstanding: 8, workload: "get",
		valueSize: 100, duration: 10 * time.Second, warmup: time.Second, keys: 1000,
		root: "/zkbench", cleanup: true, timeout: 5 * time.Minute, leaderRecipe: "latch",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
}

func TestParseFlagsValues(t *testing.T) {
	c, err := parseFlags([]string{
		"-server", "10.0.0.1:2181, 10.0.0.2:2181,,", "-sessions", "16", "-outstanding", "32",
		"-workload", "mixed", "-value-size", "0", "-duration", "5s", "-warmup", "0s", "-keys", "7",
		"-root", "/a/b", "-cleanup=false", "-json", "-uncontended", "-leader-recipe", "selector",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		servers: []string{"10.0.0.1:2181", "10.0.0.2:2181"}, sessions: 16, outstanding: 32,
		workload: "mixed", valueSize: 0, duration: 5 * time.Second, keys: 7, root: "/a/b",
		json: true, timeout: 5 * time.Minute, uncontended: true, leaderRecipe: "selector",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
	for _, args := range [][]string{{"-populate", "1000000"}, {"-purge"}, {"-connect-probe", "-timeout", "1m"},
		{"-workload", "lock"}, {"-workload", "lock", "-uncontended"}, {"-workload", "leader", "-leader-recipe", "selector"}} {
		if _, err := parseFlags(args, io.Discard); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestParseFlagsRejects(t *testing.T) {
	for _, args := range [][]string{
		{"-server", " , "},
		{"-sessions", "0"},
		{"-outstanding", "0"},
		{"-workload", "delete"},
		{"-workload", "leader", "-leader-recipe", "bully"},
		{"-value-size", "-1"},
		{"-value-size", "2000000"},
		{"-duration", "0s"},
		{"-warmup", "-1s"},
		{"-keys", "0"},
		{"-populate", "-3"},
		{"-timeout", "0s"},
		{"-populate", "10", "-purge"},
		{"-purge", "-connect-probe"},
		{"-root", "zkbench"},
		{"-root", "/"},
		{"-root", "/a/"},
		{"-root", "/a//b"},
		{"-root", "/a/../b"},
		{"-root", "/zookeeper"},
		{"-root", "/zookeeper/x"},
		{"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("%q: err = %v, want errUsage", args, err)
		}
	}
	if _, err := parseFlags([]string{"-nosuchflag"}, io.Discard); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, err := parseFlags([]string{"-root", "/zookeeperish"}, io.Discard); err != nil {
		t.Errorf("/zookeeperish rejected: %v", err)
	}
}

func TestRunUsageExitCodes(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &out); code != 0 {
		t.Errorf("-h: exit %d, want 0", code)
	}
	if !strings.Contains(out.String(), "Usage: zkbench") || !strings.Contains(out.String(), "-outstanding") {
		t.Errorf("-h output lacks usage:\n%s", out.String())
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: err = %v, want flag.ErrHelp", err)
	}
	for _, args := range [][]string{{"-sessions", "0"}, {"-bogus"}} {
		out.Reset()
		if code := run(context.Background(), args, &out, &out); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
