package replication

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// hclogAdapter is an hclog.Logger that writes to a *slog.Logger, so raft,
// its transport, raft-wal and the snapshot store log where the server logs.
// Levels map one to one (Trace becomes slog.LevelDebug-4) except for a few
// routine messages (see demote); the slog handler's level decides what is
// written, and SetLevel can only raise it. Values are rendered as hclog
// renders them: hclog.Fmt("%+v", x) is formatted, not printed as a slice.
type hclogAdapter struct {
	l     *slog.Logger
	name  string
	args  []any
	level *atomic.Int32 // minimum hclog.Level, shared by derived loggers
	// solo is whether the membership raft last logged has one voter (a
	// standalone server), shared by derived loggers.
	solo *atomic.Bool
}

var _ hclog.Logger = (*hclogAdapter)(nil)

func newHclogAdapter(l *slog.Logger) *hclogAdapter {
	a := &hclogAdapter{l: l, level: new(atomic.Int32), solo: new(atomic.Bool)}
	a.level.Store(int32(hclog.Trace))
	return a
}

func slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (a *hclogAdapter) enabled(level hclog.Level) bool {
	if level == hclog.Off || level < hclog.Level(a.level.Load()) {
		return false
	}
	return a.l.Enabled(context.Background(), slogLevel(level))
}

// demote lowers the level of raft messages that are routine in zkgo: a
// server "times out" into its first election at every start, a new or
// lagging follower is sent older entries, and a server waiting to be added
// (Config.Join) or an observer without a leader retries quietly. A
// standalone server (solo: the only voter) goes through a whole election at
// every start; that tells an operator nothing, so it is debug output.
func demote(level hclog.Level, msg string, solo bool) hclog.Level {
	if solo {
		switch msg {
		case "initial configuration",
			"entering follower state",
			"heartbeat timeout reached, starting election",
			"entering candidate state",
			"pre-vote successful, starting election",
			"election won",
			"entering leader state":
			return min(level, hclog.Debug)
		}
	}
	switch msg {
	case "heartbeat timeout reached, starting election",
		"appendEntries rejected, sending older logs",
		"failed to get previous log":
		return min(level, hclog.Info)
	case "no known peers, aborting election",
		"heartbeat timeout reached, not part of a stable configuration or a non-voter, not triggering a leader election":
		return min(level, hclog.Debug)
	}
	return level
}

func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	if msg == "initial configuration" || msg == "updating configuration" {
		a.noteMembership(args)
	}
	level = demote(level, msg, a.solo.Load())
	if !a.enabled(level) {
		return
	}
	args = hclogArgs(args)
	if a.name != "" {
		args = append([]any{"logger", a.name}, args...)
	}
	a.l.Log(context.Background(), slogLevel(level), msg, args...)
}

// noteMembership records whether the membership in a raft "initial
// configuration" or "updating configuration" message (its "servers" value,
// hclog.Fmt("%+v", []raft.Server)) has exactly one voter. Raft tells its
// logger, not its user, when it starts with or switches to a membership;
// a message of another shape leaves solo as it was.
func (a *hclogAdapter) noteMembership(args []any) {
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); !ok || k != "servers" {
			continue
		}
		f, ok := args[i+1].(hclog.Format)
		if !ok || len(f) != 2 {
			return
		}
		servers, ok := f[1].([]raft.Server)
		if !ok {
			return
		}
		voters := 0
		for _, s := range servers {
			if s.Suffrage == raft.Voter {
				voters++
			}
		}
		a.solo.Store(voters == 1)
		return
	}
}

// hclogArgs returns args (key, value pairs) with hclog's formatting types
// rendered as hclog renders them, and a trailing key without a value
// named as hclog names it. args is not modified.
func hclogArgs(args []any) []any {
	out := make([]any, 0, len(args)+1)
	for i := 0; i < len(args); i += 2 {
		if i+1 == len(args) {
			if _, ok := args[i].(hclog.CapturedStacktrace); ok {
				out = append(out, "stacktrace", args[i])
			} else {
				out = append(out, hclog.MissingKey, hclogValue(args[i]))
			}
			break
		}
		out = append(out, args[i], hclogValue(args[i+1]))
	}
	return out
}

func hclogValue(v any) any {
	switch v := v.(type) {
	case hclog.Format:
		if len(v) == 0 {
			return ""
		}
		if format, ok := v[0].(string); ok {
			return fmt.Sprintf(format, v[1:]...)
		}
		return fmt.Sprint([]any(v)...)
	case hclog.Hex:
		return "0x" + strconv.FormatUint(uint64(v), 16)
	case hclog.Octal:
		return "0" + strconv.FormatUint(uint64(v), 8)
	case hclog.Binary:
		return "0b" + strconv.FormatUint(uint64(v), 2)
	case hclog.Quote:
		return string(v) // the slog handler quotes as its format needs
	case hclog.CapturedStacktrace:
		return string(v)
	}
	return v
}

func (a *hclogAdapter) Trace(msg string, args ...any) { a.Log(hclog.Trace, msg, args...) }
func (a *hclogAdapter) Debug(msg string, args ...any) { a.Log(hclog.Debug, msg, args...) }
func (a *hclogAdapter) Info(msg string, args ...any)  { a.Log(hclog.Info, msg, args...) }
func (a *hclogAdapter) Warn(msg string, args ...any)  { a.Log(hclog.Warn, msg, args...) }
func (a *hclogAdapter) Error(msg string, args ...any) { a.Log(hclog.Error, msg, args...) }

func (a *hclogAdapter) IsTrace() bool { return a.enabled(hclog.Trace) }
func (a *hclogAdapter) IsDebug() bool { return a.enabled(hclog.Debug) }
func (a *hclogAdapter) IsInfo() bool  { return a.enabled(hclog.Info) }
func (a *hclogAdapter) IsWarn() bool  { return a.enabled(hclog.Warn) }
func (a *hclogAdapter) IsError() bool { return a.enabled(hclog.Error) }

func (a *hclogAdapter) ImpliedArgs() []any { return a.args }

func (a *hclogAdapter) With(args ...any) hclog.Logger {
	b := *a
	b.l = a.l.With(hclogArgs(args)...)
	b.args = append(append([]any(nil), a.args...), args...)
	return &b
}

func (a *hclogAdapter) Name() string { return a.name }

func (a *hclogAdapter) Named(name string) hclog.Logger {
	if a.name != "" {
		name = a.name + "." + name
	}
	return a.ResetNamed(name)
}

func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	b := *a
	b.name = name
	return &b
}

func (a *hclogAdapter) SetLevel(level hclog.Level) { a.level.Store(int32(level)) }

func (a *hclogAdapter) GetLevel() hclog.Level { return hclog.Level(a.level.Load()) }

func (a *hclogAdapter) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(a.l.Handler(), slog.LevelInfo)
}

func (a *hclogAdapter) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return a.StandardLogger(opts).Writer()
}
