package replication

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

func TestLoggerAdapter(t *testing.T) {
	var buf bytes.Buffer
	base := newHclogAdapter(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	var l hclog.Logger = base
	l = l.Named("raft").Named("snap").With("node", "1")

	l.Debug("hidden debug")
	l.Trace("hidden trace")
	l.Info("shown", "k", 7)
	l.Warn("warned")
	l.Error("failed", "error", "boom")
	out := buf.String()
	for _, want := range []string{
		`level=INFO msg=shown node=1 logger=raft.snap k=7`,
		`level=WARN msg=warned`,
		`level=ERROR msg=failed node=1 logger=raft.snap error=boom`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("debug/trace written at info level:\n%s", out)
	}
	if l.IsDebug() || !l.IsInfo() || !l.IsError() {
		t.Error("Is* guards do not follow the slog handler's level")
	}
	if l.Name() != "raft.snap" || len(l.ImpliedArgs()) != 2 {
		t.Errorf("Name %q, ImpliedArgs %v", l.Name(), l.ImpliedArgs())
	}

	buf.Reset()
	l.Warn("heartbeat timeout reached, starting election")
	if !strings.Contains(buf.String(), "level=INFO") {
		t.Errorf("routine raft warning not demoted to info:\n%s", buf.String())
	}

	l.SetLevel(hclog.Error) // shared with the loggers derived from base
	buf.Reset()
	base.Warn("quiet")
	base.Error("loud")
	if strings.Contains(buf.String(), "quiet") || !strings.Contains(buf.String(), "loud") {
		t.Errorf("SetLevel(Error) not applied:\n%s", buf.String())
	}

	buf.Reset()
	l.StandardLogger(nil).Print("from std log")
	if !strings.Contains(buf.String(), "from std log") {
		t.Errorf("StandardLogger output missing:\n%s", buf.String())
	}
}

// TestLoggerFormatsHclogValues checks that values raft and its stores log
// with hclog's formatting types come out formatted, as hclog prints them.
func TestLoggerFormatsHclogValues(t *testing.T) {
	var buf bytes.Buffer
	l := newHclogAdapter(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	servers := []raft.Server{{Suffrage: raft.Voter, ID: "1", Address: "10.0.0.1:2888"}}
	l.With("term", hclog.Fmt("%d/%d", 3, 4)).Info("formatted",
		"servers", hclog.Fmt("%+v", servers),
		"percent", hclog.Fmt("%0.2f%%", 12.5),
		"hex", hclog.Hex(255), "octal", hclog.Octal(8), "binary", hclog.Binary(5),
		"quoted", hclog.Quote("a\nb"),
		"dangling")
	out := buf.String()
	for _, want := range []string{
		`term=3/4`,
		`servers="[{Suffrage:Voter ID:1 Address:10.0.0.1:2888}]"`,
		`percent=12.50%`,
		`hex=0xff octal=010 binary=0b101`,
		`quoted="a\nb"`, // the newline escaped
		`EXTRA_VALUE_AT_END=dangling`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "%+v") || strings.Contains(out, "%d") {
		t.Errorf("a format string was printed instead of applied:\n%s", out)
	}
}

// TestLoggerStandaloneElectionIsDebug checks that the election a one-voter
// membership runs at every start is logged at debug level, and that the
// same messages stay at info once raft logs a membership with more voters.
func TestLoggerStandaloneElectionIsDebug(t *testing.T) {
	var buf bytes.Buffer
	l := newHclogAdapter(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))).Named("raft")
	one := []raft.Server{{Suffrage: raft.Voter, ID: "1", Address: "a"}, {Suffrage: raft.Nonvoter, ID: "2", Address: "b"}}
	l.Info("initial configuration", "index", 1, "servers", hclog.Fmt("%+v", one))
	l.Info("election won", "term", 2, "tally", 1)
	l.Info("entering leader state", "leader", "Node at a [Leader]")
	l.Info("added peer, starting replication", "peer", "2")
	out := buf.String()
	for _, want := range []string{
		`level=DEBUG msg="initial configuration"`,
		`level=DEBUG msg="election won"`,
		`level=DEBUG msg="entering leader state"`,
		`level=INFO msg="added peer, starting replication"`, // not election chatter
	} {
		if !strings.Contains(out, want) {
			t.Errorf("one voter: output lacks %s:\n%s", want, out)
		}
	}

	buf.Reset()
	three := []raft.Server{{Suffrage: raft.Voter, ID: "1"}, {Suffrage: raft.Voter, ID: "2"}, {Suffrage: raft.Voter, ID: "3"}}
	l.Info("updating configuration", "command", raft.AddVoter, "servers", hclog.Fmt("%+v", three))
	l.Info("entering leader state", "leader", "Node at a [Leader]")
	if out := buf.String(); !strings.Contains(out, `level=INFO msg="updating configuration"`) || !strings.Contains(out, `level=INFO msg="entering leader state"`) {
		t.Errorf("three voters: election messages not at info:\n%s", out)
	}
}

// TestLoggerStandaloneStart opens a real one-voter Node with its log at
// info level: once it is the leader, raft has said nothing at info or above.
func TestLoggerStandaloneStart(t *testing.T) {
	var buf syncBuffer
	cfg := standaloneConfig(t)
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	n := open(t, cfg, &listFSM{})
	ctx := testContext(t)
	for {
		ready, changed := n.Leadership()
		if ready {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("no leader: %v\n%s", ctx.Err(), buf.String())
		}
	}
	if out := buf.String(); out != "" {
		t.Errorf("a standalone start logged at info level or above:\n%s", out)
	}
}
