package replication

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHclogAdapter(t *testing.T) {
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
