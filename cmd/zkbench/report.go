package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// report is the outcome of one mode, printable as text (and as JSON by
// encoding/json).
type report interface {
	writeText(w io.Writer) error
}

// latency summarises a histogram, in microseconds.
type latency struct {
	Min  int64   `json:"min"`
	Mean float64 `json:"mean"`
	P50  int64   `json:"p50"`
	P90  int64   `json:"p90"`
	P99  int64   `json:"p99"`
	P999 int64   `json:"p99_9"`
	Max  int64   `json:"max"`
}

func summarize(h *histogram) latency {
	if h.count() == 0 {
		return latency{}
	}
	return latency{
		Min: h.min, Mean: h.mean(), P50: h.percentile(50), P90: h.percentile(90),
		P99: h.percentile(99), P999: h.percentile(99.9), Max: h.max,
	}
}

// opResult is the measured outcome of one kind of operation (or of all).
// Ops counts successes only; failed operations are in Errors.
type opResult struct {
	Ops          int64            `json:"ops"`
	OpsPerSec    float64          `json:"ops_per_sec"`
	Errors       int64            `json:"errors"`
	ErrorsByCode map[string]int64 `json:"errors_by_code,omitempty"`
	LatencyUS    latency          `json:"latency_us"`
}

// benchResult is the outcome of a benchmark run.
type benchResult struct {
	Mode          string              `json:"mode"`
	Workload      string              `json:"workload"`
	Servers       []string            `json:"servers"`
	Sessions      int                 `json:"sessions"`
	Outstanding   int                 `json:"outstanding"`
	ValueSize     int                 `json:"value_size"`
	Keys          int                 `json:"keys,omitempty"`
	Root          string              `json:"root"`
	WarmupSec     float64             `json:"warmup_sec"`
	DurationSec   float64             `json:"duration_sec"`
	SetupSec      float64             `json:"setup_sec"`
	CleanupSec    float64             `json:"cleanup_sec"`
	CleanupErrors map[string]int64    `json:"cleanup_errors,omitempty"`
	Total         opResult            `json:"total"`
	ByOp          map[string]opResult `json:"by_op"`
}

// fill merges the sessions' measurements, which must have stopped.
func (r *benchResult) fill(sessions []*benchSession, d time.Duration) {
	var all histogram
	allErrs := map[proto.Code]int64{}
	r.ByOp = map[string]opResult{}
	for k := range numOpKinds {
		var h histogram
		errs := map[proto.Code]int64{}
		for _, b := range sessions {
			h.merge(&b.hist[k])
			for c, n := range b.errs[k] {
				errs[c] += n
				allErrs[c] += n
			}
		}
		if h.count() == 0 && len(errs) == 0 {
			continue
		}
		all.merge(&h)
		r.ByOp[k.String()] = makeOpResult(&h, errs, d)
	}
	r.Total = makeOpResult(&all, allErrs, d)
}

func makeOpResult(h *histogram, errs map[proto.Code]int64, d time.Duration) opResult {
	var nerr int64
	for _, n := range errs {
		nerr += n
	}
	return opResult{
		Ops:          int64(h.count()),
		OpsPerSec:    float64(h.count()) / d.Seconds(),
		Errors:       nerr,
		ErrorsByCode: codeNames(errs),
		LatencyUS:    summarize(h),
	}
}

func ms(us int64) string { return fmt.Sprintf("%.3f", float64(us)/1000) }

func (r *benchResult) writeText(w io.Writer) error {
	fmt.Fprintf(w, "zkbench %s: servers=%s sessions=%d outstanding=%d value=%dB",
		r.Workload, strings.Join(r.Servers, ","), r.Sessions, r.Outstanding, r.ValueSize)
	if r.Keys > 0 {
		fmt.Fprintf(w, " keys=%d", r.Keys)
	}
	fmt.Fprintf(w, " warmup=%gs duration=%gs\n\n", r.WarmupSec, r.DurationSec)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tops\tops/s\terrors\tmean ms\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\t")
	row := func(name string, o opResult) {
		l := o.LatencyUS
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%d\t%.3f\t%s\t%s\t%s\t%s\t\n", name, o.Ops, o.OpsPerSec, o.Errors,
			l.Mean/1000, ms(l.P50), ms(l.P99), ms(l.P999), ms(l.Max))
	}
	names := make([]string, 0, len(r.ByOp))
	for name := range r.ByOp {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		row(name, r.ByOp[name])
	}
	if len(r.ByOp) != 1 {
		row("total", r.Total)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Total.ErrorsByCode) > 0 {
		fmt.Fprintf(w, "\nerrors: %s\n", formatCodes(r.Total.ErrorsByCode))
	}
	fmt.Fprintf(w, "\nsetup %.2fs, cleanup %.2fs", r.SetupSec, r.CleanupSec)
	if len(r.CleanupErrors) > 0 {
		fmt.Fprintf(w, " (errors: %s)", formatCodes(r.CleanupErrors))
	}
	_, err := fmt.Fprintln(w)
	return err
}

// populateResult is the outcome of -populate.
type populateResult struct {
	Mode         string           `json:"mode"`
	Root         string           `json:"root"`
	Requested    int              `json:"requested"`
	Created      int64            `json:"created"`
	ValueSize    int              `json:"value_size"`
	ElapsedSec   float64          `json:"elapsed_sec"`
	CreatesPerS  float64          `json:"creates_per_sec"`
	ErrorsByCode map[string]int64 `json:"errors_by_code,omitempty"`
}

func (r *populateResult) writeText(w io.Writer) error {
	fmt.Fprintf(w, "populate %s: created %d of %d znodes of %d bytes in %.3fs (%.0f creates/s)\n",
		r.Root, r.Created, r.Requested, r.ValueSize, r.ElapsedSec, r.CreatesPerS)
	if len(r.ErrorsByCode) > 0 {
		fmt.Fprintf(w, "errors: %s\n", formatCodes(r.ErrorsByCode))
	}
	return nil
}

// purgeResult is the outcome of -purge.
type purgeResult struct {
	Mode         string           `json:"mode"`
	Root         string           `json:"root"`
	Deleted      int64            `json:"deleted"`
	ElapsedSec   float64          `json:"elapsed_sec"`
	ErrorsByCode map[string]int64 `json:"errors_by_code,omitempty"`
}

func (r *purgeResult) writeText(w io.Writer) error {
	fmt.Fprintf(w, "purge %s: deleted %d znodes in %.3fs\n", r.Root, r.Deleted, r.ElapsedSec)
	if len(r.ErrorsByCode) > 0 {
		fmt.Fprintf(w, "errors: %s\n", formatCodes(r.ErrorsByCode))
	}
	return nil
}

// probeResult is the outcome of -connect-probe.
type probeResult struct {
	Mode      string  `json:"mode"`
	Server    string  `json:"server"` // the one that accepted
	ElapsedMS float64 `json:"elapsed_ms"`
	Attempts  int     `json:"attempts"`
}

func (r *probeResult) writeText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "connect-probe: session accepted by %s after %.1f ms (%d attempts)\n",
		r.Server, r.ElapsedMS, r.Attempts)
	return err
}

// recipeResult is the outcome of a lock or leader benchmark. Ops counts
// lock acquire+release cycles or leadership handovers; Overlaps counts
// times two holders (or leaders) were seen at once, or a fencing token out
// of order: anything but 0 is a broken recipe.
type recipeResult struct {
	Mode         string           `json:"mode"`
	Workload     string           `json:"workload"`
	Variant      string           `json:"variant"` // contended, uncontended, latch or selector
	Servers      []string         `json:"servers"`
	Sessions     int              `json:"sessions"`
	Root         string           `json:"root"`
	Path         string           `json:"path"` // the lock or election path (or their parent)
	WarmupSec    float64          `json:"warmup_sec"`
	DurationSec  float64          `json:"duration_sec"`
	SetupSec     float64          `json:"setup_sec"`
	CleanupSec   float64          `json:"cleanup_sec"`
	Ops          int64            `json:"ops"`
	OpsPerSec    float64          `json:"ops_per_sec"`
	Errors       int64            `json:"errors"`
	ErrorsByKind map[string]int64 `json:"errors_by_kind,omitempty"`
	LastError    string           `json:"last_error,omitempty"`
	Overlaps     int64            `json:"overlaps"`
	// LatencyUS is the acquire latency (lock) or the handover latency
	// (leader: from the leader's release to the next leader's start).
	LatencyUS latency `json:"latency_us"`
	// ReleaseUS is the Unlock latency (lock only).
	ReleaseUS *latency `json:"release_us,omitempty"`
}

// fill merges the workers' measurements, which must have stopped.
func (r *recipeResult) fill(workers []recipeWorker, plan *recipePlan, d time.Duration) {
	var acq, rel histogram
	for i := range workers {
		w := &workers[i]
		r.Ops += w.ops
		acq.merge(&w.acquire)
		rel.merge(&w.release)
		for k, n := range w.errs {
			if r.ErrorsByKind == nil {
				r.ErrorsByKind = make(map[string]int64)
			}
			r.ErrorsByKind[k] += n
			r.Errors += n
		}
		if w.lastErr != nil {
			r.LastError = w.lastErr.Error()
		}
	}
	r.OpsPerSec = float64(r.Ops) / d.Seconds()
	r.Overlaps = plan.overlaps.Load()
	r.LatencyUS = summarize(&acq)
	if r.Workload == workloadLock {
		l := summarize(&rel)
		r.ReleaseUS = &l
	}
}

func (r *recipeResult) writeText(w io.Writer) error {
	fmt.Fprintf(w, "zkbench %s (%s): servers=%s sessions=%d path=%s warmup=%gs duration=%gs\n\n",
		r.Workload, r.Variant, strings.Join(r.Servers, ","), r.Sessions, r.Path, r.WarmupSec, r.DurationSec)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tcount\tper s\tmean ms\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\t")
	row := func(name string, n int64, l latency) {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.3f\t%s\t%s\t%s\t%s\t\n", name, n, float64(n)/r.DurationSec,
			l.Mean/1000, ms(l.P50), ms(l.P99), ms(l.P999), ms(l.Max))
	}
	if r.Workload == workloadLock {
		row("acquire", r.Ops, r.LatencyUS)
		row("release", r.Ops, *r.ReleaseUS)
	} else {
		row("handover", r.Ops, r.LatencyUS)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\noverlaps %d, errors %d", r.Overlaps, r.Errors)
	if len(r.ErrorsByKind) > 0 {
		fmt.Fprintf(w, " (%s; last: %s)", formatCodes(r.ErrorsByKind), r.LastError)
	}
	_, err := fmt.Fprintf(w, "\nsetup %.2fs, cleanup %.2fs\n", r.SetupSec, r.CleanupSec)
	return err
}
