package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestServerAddrs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"127.0.0.1:2181", []string{"127.0.0.1:2181"}},
		{"zk1", []string{"zk1:2181"}},
		{" zk1:1 , zk2:65535 ,", []string{"zk1:1", "zk2:65535"}},
		{"[::1]:3000,[::1]/app/x", []string{"[::1]:3000", "[::1]:2181"}},
	} {
		got, err := serverAddrs(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("serverAddrs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, msg string }{
		{"127.0.0.1:abc", `bad address "127.0.0.1:abc": port "abc" is not a number from 1 to 65535`},
		{"zk1:0", `bad address "zk1:0": port "0" is not a number from 1 to 65535`},
		{"zk1:2181,zk2:70000", `bad address "zk2:70000": port "70000" is not a number from 1 to 65535`},
		{"[::1", `bad address "[::1": missing ']' in address`},
		{"::1", `bad address "::1": too many colons in address`},
		{":2181", `bad address ":2181": no host name`},
		{"[]", `bad address "[]": no host name`},
		{" , /chroot", `bad address " , /chroot": no server`},
	} {
		_, err := serverAddrs(tt.in)
		if !errors.Is(err, errBadAddress) || err.Error() != tt.msg {
			t.Errorf("serverAddrs(%q) = %v; want %s", tt.in, err, tt.msg)
		}
	}
}

// closedPort returns a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestOneShotUnreachable runs one-shot commands with the real client on a
// port that refuses connections and on malformed addresses: zkcli says
// why, after ConnectionLoss's usual line, and exits 1 without waiting for
// the connect timeout (whose error would read "no session within 5s").
func TestOneShotUnreachable(t *testing.T) {
	refused := fmt.Sprintf("127.0.0.1:%d", closedPort(t))
	refused2 := fmt.Sprintf("127.0.0.1:%d", closedPort(t))
	for _, tt := range []struct{ server, cause string }{
		{refused, "dial tcp " + refused + ": connect: connection refused"},
		{refused + "," + refused2 + "/app", "dial tcp " + refused + ": connect: connection refused; dial tcp " + refused2 + ": connect: connection refused"},
		{"127.0.0.1:abc", `bad address "127.0.0.1:abc": port "abc" is not a number from 1 to 65535`},
		{"[::1", `bad address "[::1": missing ']' in address`},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var out, errOut bytes.Buffer
		code := runMain(ctx, []string{"-server", tt.server, "get", "/a"}, strings.NewReader(""), &out, &errOut, dialConn)
		cancel()
		wantErr := "Unable to connect to " + tt.server + ": " + tt.cause + "\nKeeperErrorCode = ConnectionLoss for /a\n"
		if code != exitError || out.String() != "Connecting to "+tt.server+"\n" || errOut.String() != wantErr {
			t.Errorf("zkcli -server %s get /a: exit %d, stdout %q, stderr %q; want exit %d, stderr %q",
				tt.server, code, out.String(), errOut.String(), exitError, wantErr)
		}
	}
}
