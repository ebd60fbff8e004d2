package load

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i))
	}
	cases := []struct {
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{hundred, 50, 50}, {hundred, 95, 95}, {hundred, 99, 99}, {hundred, 100, 100}, {hundred, 1, 1}, {hundred, 99.5, 100},
		{[]time.Duration{7}, 50, 7}, {[]time.Duration{7}, 99, 7},
		{[]time.Duration{1, 2}, 50, 1}, {[]time.Duration{1, 2}, 51, 2},
		{nil, 50, 0},
	}
	for _, c := range cases {
		if got := Percentile(c.values, c.p); got != c.want {
			t.Errorf("p%v of %d values = %d, want %d", c.p, len(c.values), got, c.want)
		}
	}
}

func TestSummarizeSortsAndMerges(t *testing.T) {
	a, b := newTally(), newTally()
	for i := 1000; i >= 1; i-- {
		if rand.IntN(2) == 0 {
			a.latencies = append(a.latencies, time.Duration(i)*time.Millisecond)
		} else {
			b.latencies = append(b.latencies, time.Duration(i)*time.Millisecond)
		}
	}
	a.statuses[200], b.statuses[200], b.statuses[503] = 3, 4, 2
	a.requests, b.requests = 3, 6
	b.addError("boom")
	a.merge(b)
	l := Summarize(a.latencies)
	want := Latencies{P50: 500 * time.Millisecond, P95: 950 * time.Millisecond, P99: 990 * time.Millisecond, Max: time.Second}
	if l != want {
		t.Errorf("got %+v, want %+v", l, want)
	}
	if a.requests != 9 || a.statuses[200] != 7 || a.non2xx() != 2 || len(a.errSample) != 1 {
		t.Errorf("merged tally: %+v", a)
	}
}

func TestReportWritesTableAndJSON(t *testing.T) {
	r := &Report{Mode: "batch", Harbor: "h", Batch: 10, Conns: 2}
	r.AddSend(&SendResult{
		Requests: 10, Readings: 100, Accepted: 90, Statuses: map[int]int64{200: 9, 503: 1}, Non2xx: 1,
		Start: testStart, End: testStart.Add(2 * time.Second), Latency: Latencies{P50: 1500 * time.Microsecond},
	})
	r.AddVerify(testStart, testStart.Add(2*time.Second), Verified{Rows: 90, Want: 90, Visible: testStart.Add(3 * time.Second)}, nil)
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"readings/s", "50", "200: 9, 503: 1", "p50 1.50", "ok: 90 rows", "30 readings/s"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	var line bytes.Buffer
	if err := r.WriteJSON(&line); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(line.Bytes(), &back); err != nil || strings.Count(line.String(), "\n") != 1 {
		t.Fatalf("not one JSON line: %q, %v", line.String(), err)
	}
	if back["readings_per_sec"] != 50.0 || back["verify"].(map[string]any)["end_to_end_per_sec"] != 30.0 {
		t.Errorf("JSON: %s", line.String())
	}
}
