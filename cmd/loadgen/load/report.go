package load

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of one loadgen run, as a table for people
// (WriteTable) and a JSON line for scripts (WriteJSON).
type Report struct {
	Mode       string  `json:"mode"` // batch, ndjson, csv, line-protocol, single or direct
	Harbor     string  `json:"harbor"`
	Harbors    int     `json:"harbors"` // requests spread over this many harbors, Harbor-0 ... (1: Harbor only)
	Batch      int     `json:"batch"`   // readings per request, rows per insert in direct mode
	Conns      int     `json:"conns"`   // connections, inserters in direct mode
	Gzip       bool    `json:"gzip"`
	TargetRate float64 `json:"target_rate"` // readings/s, 0 for as fast as possible

	Readings       int64            `json:"readings"` // sent (inserted in direct mode)
	Requests       int64            `json:"requests"` // inserts in direct mode
	Accepted       int64            `json:"accepted"` // readings answered 200
	Bytes          int64            `json:"bytes"`
	Seconds        float64          `json:"seconds"` // of the send phase
	ReadingsPerSec float64          `json:"readings_per_sec"`
	RequestsPerSec float64          `json:"requests_per_sec"`
	LatencyMs      LatencyMs        `json:"latency_ms"`
	Statuses       map[string]int64 `json:"statuses"`
	Non2xx         int64            `json:"non_2xx"`
	Errors         int64            `json:"errors"`
	ErrorSamples   []string         `json:"error_samples,omitempty"`
	Stopped        bool             `json:"stopped"` // ended early: -max-duration or a signal
	// CPUSeconds is the CPU time loadgen itself used (user and system), to
	// show it was not the bottleneck; 0 when not measured.
	CPUSeconds float64 `json:"cpu_seconds"`

	// Verify is set when the rows were looked for in ClickHouse.
	Verify *VerifyReport `json:"verify,omitempty"`
	// Legacy is whether the table is the pre-20.1 variant (direct mode).
	Legacy *bool `json:"legacy_table,omitempty"`
}

// LatencyMs are latency percentiles in milliseconds.
type LatencyMs struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// VerifyReport says whether ClickHouse holds every accepted reading, and how
// fast they got there.
type VerifyReport struct {
	OK   bool   `json:"ok"`
	Rows uint64 `json:"rows"` // of the harbor, FINAL
	Want uint64 `json:"want"`
	// EndToEndSeconds is from the first request sent to the last row
	// visible; EndToEndPerSec is Want over it. CatchUpSeconds is the part
	// after the last answer.
	EndToEndSeconds float64 `json:"end_to_end_seconds,omitempty"`
	EndToEndPerSec  float64 `json:"end_to_end_per_sec,omitempty"`
	CatchUpSeconds  float64 `json:"catch_up_seconds,omitempty"`
	Error           string  `json:"error,omitempty"`
}

func latencyMs(l Latencies) LatencyMs {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return LatencyMs{P50: ms(l.P50), P95: ms(l.P95), P99: ms(l.P99), Max: ms(l.Max)}
}

// AddSend fills the report from a send phase.
func (r *Report) AddSend(s *SendResult) {
	r.Readings, r.Requests, r.Accepted, r.Bytes = s.Readings, s.Requests, s.Accepted, s.Bytes
	r.Seconds = s.Elapsed().Seconds()
	r.ReadingsPerSec, r.RequestsPerSec = s.ReadingsPerSec(), s.RequestsPerSec()
	r.LatencyMs = latencyMs(s.Latency)
	r.Statuses = map[string]int64{}
	for code, n := range s.Statuses {
		r.Statuses[strconv.Itoa(code)] = n
	}
	r.Non2xx, r.Errors, r.ErrorSamples, r.Stopped = s.Non2xx, s.Errors, s.ErrorSamples, s.Stopped
}

// AddVerify fills the verification part from WaitForRows' outcome.
func (r *Report) AddVerify(start, sendEnd time.Time, v Verified, err error) {
	vr := &VerifyReport{OK: err == nil, Rows: v.Rows, Want: v.Want}
	if err != nil {
		vr.Error = err.Error()
	} else if !v.Visible.IsZero() {
		vr.EndToEndSeconds = v.Visible.Sub(start).Seconds()
		vr.EndToEndPerSec = perSec(int64(v.Want), v.Visible.Sub(start))
		vr.CatchUpSeconds = max(0, v.Visible.Sub(sendEnd).Seconds())
	}
	r.Verify = vr
}

// AddDirect fills the report from a direct insert.
func (r *Report) AddDirect(d *DirectResult) {
	r.Readings, r.Requests, r.Accepted = d.Rows, d.Inserts, d.Rows
	r.Seconds = d.Elapsed().Seconds()
	r.ReadingsPerSec, r.RequestsPerSec = d.RowsPerSec(), perSec(d.Inserts, d.Elapsed())
	r.LatencyMs = latencyMs(d.Latency)
	r.Legacy = &d.Legacy
}

// WriteJSON writes the report as one line of JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes the report as an aligned two-column table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	unit, per := "requests", "request"
	if r.Mode == "direct" {
		unit, per = "inserts", "insert"
	}
	rate := "as fast as possible"
	if r.TargetRate > 0 {
		rate = fmt.Sprintf("%.0f readings/s", r.TargetRate)
	}
	harbor := r.Harbor
	if r.Harbors > 1 {
		harbor = fmt.Sprintf("%s-0 to %s-%d", r.Harbor, r.Harbor, r.Harbors-1)
	}
	row("mode", "%s (harbor %s, %d per %s, %d conns, gzip %v, %s)", r.Mode, harbor, r.Batch, per, r.Conns, r.Gzip, rate)
	row("readings", "%d", r.Readings)
	row(unit, "%d", r.Requests)
	row("accepted readings", "%d", r.Accepted)
	if r.Bytes > 0 {
		row("body bytes", "%d (%.1f MB)", r.Bytes, float64(r.Bytes)/1e6)
	}
	row("duration", "%.2f s", r.Seconds)
	row("readings/s", "%.0f", r.ReadingsPerSec)
	row(unit+"/s", "%.1f", r.RequestsPerSec)
	l := r.LatencyMs
	row("latency ms", "p50 %.2f  p95 %.2f  p99 %.2f  max %.2f", l.P50, l.P95, l.P99, l.Max)
	if r.Mode != "direct" {
		row("status codes", "%s", r.statusText())
		row("non-2xx", "%d", r.Non2xx)
		row("errors", "%d", r.Errors)
	}
	for _, e := range r.ErrorSamples {
		row("  e.g.", "%s", e)
	}
	if r.Stopped {
		row("stopped early", "yes: not every reading was sent")
	}
	if r.CPUSeconds > 0 {
		row("loadgen CPU", "%.2f s", r.CPUSeconds)
	}
	if r.Legacy != nil {
		row("legacy table", "%v", *r.Legacy)
	}
	if v := r.Verify; v != nil {
		if v.OK {
			row("verify", "ok: %d rows in ClickHouse", v.Rows)
			row("end to end", "%.2f s, %.0f readings/s (%.2f s after the last answer)", v.EndToEndSeconds, v.EndToEndPerSec, v.CatchUpSeconds)
		} else {
			row("verify", "FAILED: %s", v.Error)
		}
	}
	return tw.Flush()
}

func (r *Report) statusText() string {
	if len(r.Statuses) == 0 {
		return "none"
	}
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(r.Statuses)) {
		parts = append(parts, fmt.Sprintf("%s: %d", code, r.Statuses[code]))
	}
	return strings.Join(parts, ", ")
}
