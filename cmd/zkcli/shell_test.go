package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// testShell runs script (lines on stdin, no terminal) through zkcli
// against srv and returns stdout, stderr and the exit code.
func testShell(t *testing.T, srv *fakeServer, script string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := runMain(ctx, []string{"-server", "127.0.0.1:2181"}, strings.NewReader(script), &out, &errb, srv.dial)
	return out.String(), errb.String(), code
}

// testOneShot runs one command from the command line.
func testOneShot(t *testing.T, srv *fakeServer, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := runMain(ctx, append([]string{"-server", "127.0.0.1:2181"}, args...), strings.NewReader(""), &out, &errb, srv.dial)
	return out.String(), errb.String(), code
}

const (
	banner    = "Connecting to 127.0.0.1:2181\nWelcome to ZooKeeper!\nJLine support is disabled\n"
	connected = "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n"
)

func event(typ, path string) string {
	return "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:" + typ + " path:" + path + "\n"
}

func TestShellBasics(t *testing.T) {
	srv := newFakeServer()
	out, errOut, code := testShell(t, srv, `create /a hello
create /a/b
create /a/c "x y"
create /a
get /a
get /a/b
get /a/c
ls /a
ls /nope
get -s /a/c
stat /nope
set -v 7 /a x
create -s /a/s- 1
create -e /a/e
getEphemerals /a
getAllChildrenNumber /
delete /a
`)
	want := banner + connected + `hello
null
x y
[b, c]
x y
cZxid = 0x3
ctime = ` + javaDate(1795305603000, time.Local) + `
mZxid = 0x3
mtime = ` + javaDate(1795305603000, time.Local) + `
pZxid = 0x3
cversion = 0
dataVersion = 0
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 3
numChildren = 0
[/a/e]
6
`
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	wantErr := `Created /a
Created /a/b
Created /a/c
Node already exists: /a
Node does not exist: /nope
Node does not exist: /nope
version No is not valid : /a
Created /a/s-0000000002
Created /a/e
Node not empty: /a
`
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
	if code != exitError {
		t.Errorf("exit code %d, want %d (the last command failed)", code, exitError)
	}
	// The session was closed at the end of input: its ephemeral is gone.
	if srv.nodes["/a/e"] != nil {
		t.Error("ephemeral node survived the end of input")
	}
}

func TestShellWatchFolding(t *testing.T) {
	srv := newFakeServer()
	// Three watches on /a/x and one on /a fire for one delete: zkCli's one
	// watcher prints NodeDeleted once, before the parent's change.
	out, _, _ := testShell(t, srv, `create /a
create /a/x
ls -w /a
get -w /a/x
get -w /a/x
ls -w /a/x
delete /a/x
addWatch /a
addWatch -m PERSISTENT /a
get -w /a
set /a 1
set /a 2
removewatches /a
create /a/y
`)
	want := banner + connected + "[x]\nnull\nnull\n[]\n" +
		event("NodeDeleted", "/a/x") + event("NodeChildrenChanged", "/a") +
		"null\n" + event("NodeDataChanged", "/a") + event("NodeDataChanged", "/a") +
		event("PersistentWatchRemoved", "/a")
	// removewatches removed both persistent watches: /a/y goes unseen.
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
}

func TestShellPrintwatches(t *testing.T) {
	srv := newFakeServer()
	out, _, _ := testShell(t, srv, `create /a
printwatches
printwatches off
printwatches
get -w /a
set /a 1
printwatches on
get -w /a
set /a 2
`)
	want := banner + connected + "printwatches is on\nprintwatches is off\nnull\n1\n" + event("NodeDataChanged", "/a")
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
}

func TestShellHistoryRedoClose(t *testing.T) {
	srv := newFakeServer()
	out, errOut, code := testShell(t, srv, `create /a
ls /

redo 1
redo 9
redo 3
redo x
history
close
ls /
connect
ls /
quit
ls /
`)
	want := banner + connected + `[a, zookeeper]
[a, zookeeper]
0 - create /a
1 - ls /
2 - ls /
3 - redo 9
4 - redo 3
5 - redo x
6 - history
` + "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n" + `Not connected
` + connected + `[a, zookeeper]
` + "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n"
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	wantErr := "Created /a\nCommand index out of range\nNo redoing redos\nredo cmdno\n"
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
	if code != exitOK {
		t.Errorf("exit code %d, want 0 (the command before quit succeeded)", code)
	}
	if srv.dials != 2 {
		t.Errorf("%d dials, want 2", srv.dials)
	}
}

func TestShellUnknownCommand(t *testing.T) {
	srv := newFakeServer()
	out, errOut, code := testOneShot(t, srv, "foo", "bar")
	if out != "Connecting to 127.0.0.1:2181\n" {
		t.Errorf("stdout %q", out)
	}
	if !strings.HasPrefix(errOut, usageText()) || !strings.HasSuffix(errOut, "Command not found: Command not found foo\n") {
		t.Errorf("stderr %q", errOut)
	}
	if code != exitUnknownCmd {
		t.Errorf("exit code %d, want %d", code, exitUnknownCmd)
	}
	if srv.dials != 0 {
		t.Errorf("an unknown command connected")
	}
}

func TestShellOneShotConnectsLazily(t *testing.T) {
	srv := newFakeServer()
	out, _, code := testOneShot(t, srv, "version")
	if !strings.HasPrefix(out, "Connecting to 127.0.0.1:2181\nZooKeeper CLI version: 3.8.0-zkgo-") || code != 0 {
		t.Errorf("version: %q, %d", out, code)
	}
	_, errOut, code := testOneShot(t, srv, "ls")
	if errOut != "ls [-s] [-w] [-R] path\n" || code != exitError {
		t.Errorf("ls: %q, %d", errOut, code)
	}
	if srv.dials != 0 {
		t.Errorf("commands that need no server connected %d times", srv.dials)
	}
	out, _, code = testOneShot(t, srv, "ls", "/")
	if out != "Connecting to 127.0.0.1:2181\n"+connected+"[zookeeper]\n" || code != 0 {
		t.Errorf("ls /: %q, %d", out, code)
	}
}

func TestShellConnectionLoss(t *testing.T) {
	srv := newFakeServer()
	srv.refuse = true
	out, errOut, code := testOneShot(t, srv, "get", "/a")
	if out != "Connecting to 127.0.0.1:2181\n" || errOut != "Unable to connect to 127.0.0.1:2181: connection refused\nKeeperErrorCode = ConnectionLoss for /a\n" || code != exitError {
		t.Errorf("got %q %q %d", out, errOut, code)
	}
}

func TestShellParseErrors(t *testing.T) {
	srv := newFakeServer()
	_, errOut, _ := testShell(t, srv, `ls -x /
set -v
create -c -e /x
create -t 0 /x
set -v x /a b
create /x d nonsense
`)
	want := `org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x
ls [-s] [-w] [-R] path
org.apache.commons.cli.MissingArgumentException: Missing argument for option: v
set [-s] [-v version] path data
-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.
ttl must be positive and cannot be larger than: 1099511627775
version must be an integer: For input string: "x"
set [-s] [-v version] path data
nonsense does not have the form scheme:id:perm
KeeperErrorCode = InvalidACL
Acl is not valid : null
`
	if errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}
}

func TestShellJSON(t *testing.T) {
	srv := newFakeServer()
	out, errOut, _ := testShell(t, srv, `create /a hi
get -o json /a
ls -o json /a
stat -o json /a
getAcl -o json /a
get -o yaml /a
`)
	lines := strings.Split(strings.TrimPrefix(out, banner+connected), "\n")
	var get struct {
		Path string
		Data struct{ Text string }
		Stat struct {
			CZxid      string
			DataLength int
		}
	}
	if err := json.Unmarshal([]byte(lines[0]), &get); err != nil || get.Path != "/a" || get.Data.Text != "hi" ||
		get.Stat.CZxid != "0x1" || get.Stat.DataLength != 2 {
		t.Errorf("get -o json: %s (%v)", lines[0], err)
	}
	if !strings.HasPrefix(lines[1], `{"path":"/a","children":[],"stat":{`) {
		t.Errorf("ls -o json: %s", lines[1])
	}
	if !strings.HasPrefix(lines[2], `{"cZxid":"0x1","ctime":`) {
		t.Errorf("stat -o json: %s", lines[2])
	}
	if !strings.HasPrefix(lines[3], `{"path":"/a","acl":[{"scheme":"world","id":"anyone","perms":"cdrwa"}],"stat":{`) {
		t.Errorf("getAcl -o json: %s", lines[3])
	}
	if !strings.HasPrefix(errOut, "Created /a\nunknown output format \"yaml\" (want json)\nget [-s] [-w] path\n") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestShellTree(t *testing.T) {
	srv := newFakeServer()
	out, errOut, _ := testShell(t, srv, `create /a
create /a/b
create /a/b/c
create /a/d
tree /a
tree
tree /nope
`)
	want := banner + connected + `/a
├── b
│   └── c
└── d
/
├── a
│   ├── b
│   │   └── c
│   └── d
└── zookeeper
`
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if !strings.HasSuffix(errOut, "Node does not exist: /nope\n") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestShellQuota(t *testing.T) {
	srv := newFakeServer()
	srv.nodes["/zookeeper/quota"] = &fakeNode{}
	out, errOut, _ := testShell(t, srv, `create /q
create /q/a
setquota -n 5 /q
listquota /q
setquota -b 10 /q/a
delquota -n /q
listquota /q
delquota /q
listquota /q
`)
	wantOut := banner + connected +
		"Output quota for /q count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1\n" +
		"Output stat for /q count=0,bytes=0\n" +
		"Output quota for /q count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=-1\n" +
		"Output stat for /q count=0,bytes=0\n"
	if out != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, wantOut)
	}
	wantErr := "Created /q\nCreated /q/a\nabsolute path is /zookeeper/quota/q/zookeeper_limits\n" +
		"/q/a has a parent /q which has a quota\n" +
		"absolute path is /zookeeper/quota/q/zookeeper_limits\n" +
		"absolute path is /zookeeper/quota/q/zookeeper_limits\nquota for /q does not exist.\n"
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
	if srv.nodes["/zookeeper/quota/q"] != nil {
		t.Error("delquota left /zookeeper/quota/q")
	}
}

func TestComplete(t *testing.T) {
	srv := newFakeServer()
	for _, p := range []string{"/app", "/app/one", "/app/other", "/apple"} {
		srv.nodes[p] = &fakeNode{}
	}
	sh := newShell(&bytes.Buffer{}, &bytes.Buffer{}, srv.dial, "h:1", dialOptions{})
	if _, c, _ := sh.complete("ge", 2); strings.Join(c, ",") != "get ,getAcl ,getAllChildrenNumber ,getEphemerals " {
		t.Errorf("command completion = %q", c)
	}
	if _, c, _ := sh.complete("ls /ap", 6); c != nil {
		t.Errorf("completion without a session = %q", c)
	}
	if _, err := sh.conn(context.Background()); err != nil {
		t.Fatal(err)
	}
	head, c, tail := sh.complete("ls /ap x", 6)
	if head != "ls " || tail != " x" || strings.Join(c, ",") != "/app,/apple" {
		t.Errorf("path completion = %q %q %q", head, c, tail)
	}
	if _, c, _ := sh.complete("get -s /app/o", 13); strings.Join(c, ",") != "/app/one,/app/other" {
		t.Errorf("child completion = %q", c)
	}
}
