// Package replay reads a window of the readings stream again, with its own
// ephemeral consumer, and inserts it into ClickHouse: to backfill a new
// table, a new cluster, or rows a bug downstream lost. The table is a
// ReplacingMergeTree, so replaying twice leaves the same rows.
package replay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harbor-ingest/harbor/pkg/retry"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/services/writer/pipeline"
	"github.com/nats-io/nats.go/jetstream"
)

// Options choose what to replay. The window is of stream time: when the API
// accepted the readings, not the readings' own times.
type Options struct {
	HarborID  string    // "" for every harbor
	From      time.Time // the first message at or after From
	To        time.Time // up to To; zero for up to the end of the stream
	BatchRows int       // rows per insert
	RetryMin  time.Duration
	RetryMax  time.Duration
	DryRun    bool // count, insert nothing
	// Limits and ClockSkew check the readings as the live writers do (what
	// they refuse is skipped: they dead-lettered it).
	Limits    schema.Limits
	ClockSkew time.Duration
}

// Progress is where a replay stands.
type Progress struct {
	Messages, Readings, Skipped int
	// Done is the share of the window behind it, from 0 to 1.
	Done    float64
	Elapsed time.Duration
}

// Rate is the readings per second so far.
func (p Progress) Rate() float64 { return float64(p.Readings) / max(p.Elapsed.Seconds(), 1e-9) }

// ETA is the time left at the rate so far.
func (p Progress) ETA() time.Duration {
	if p.Done <= 0 {
		return 0
	}
	return time.Duration(float64(p.Elapsed) * (1 - p.Done) / p.Done)
}

// Run replays the window into sink (nil with DryRun), calling report about
// once a second and once at the end.
func Run(ctx context.Context, js jetstream.JetStream, cfg stream.Config, sink pipeline.Sink, o Options, report func(Progress)) (Progress, error) {
	start := time.Now()
	s, err := js.Stream(ctx, cfg.Name)
	if err != nil {
		return Progress{}, fmt.Errorf("stream %s: %w", cfg.Name, err)
	}
	state := s.CachedInfo().State
	end := o.To
	if end.IsZero() || end.After(state.LastTime) {
		end = state.LastTime
	}
	filter := cfg.SubjectPrefix + ".*"
	if o.HarborID != "" {
		filter = cfg.Subject(o.HarborID)
	}
	cons, err := js.OrderedConsumer(ctx, cfg.Name, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &o.From,
	})
	if err != nil {
		return Progress{}, fmt.Errorf("replay consumer: %w", err)
	}

	var p Progress
	var cols schema.Columns
	flush := func() error {
		if o.DryRun || cols.Len() == 0 {
			cols.Reset()
			return nil
		}
		err := retry.Do(ctx, retry.Policy{Min: o.RetryMin, Max: o.RetryMax, GiveUp: cannotInsert}, func(ctx context.Context) error {
			return sink.Insert(ctx, &cols)
		})
		cols.Reset()
		if err != nil {
			return fmt.Errorf("insert (replay again once it is fixed: the table collapses the rows stored twice): %w", err)
		}
		return nil
	}
	lastReport := time.Now()
	for done := false; !done && state.Msgs > 0; {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return p, fmt.Errorf("fetch: %w", err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			meta, err := msg.Metadata()
			if err != nil {
				return p, fmt.Errorf("message metadata: %w", err)
			}
			if meta.Timestamp.After(end) {
				done = true
				break
			}
			n := cols.Len()
			if err := pipeline.AppendMessage(&cols, cfg, o.Limits, o.ClockSkew, msg); err != nil {
				p.Skipped++ // the live writers dead-lettered it too
			}
			p.Messages++
			p.Readings += cols.Len() - n
			p.Done = fraction(meta.Timestamp, o.From, end)
			done = meta.Sequence.Stream >= state.LastSeq || meta.NumPending == 0
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return p, fmt.Errorf("fetch: %w", err)
		}
		if got == 0 {
			done = true // nothing (more) in the window
		}
		if cols.Len() >= o.BatchRows || done {
			if err := flush(); err != nil {
				return p, err
			}
		}
		if report != nil && time.Since(lastReport) >= time.Second {
			p.Elapsed = time.Since(start)
			report(p)
			lastReport = time.Now()
		}
	}
	p.Done, p.Elapsed = 1, time.Since(start)
	if report != nil {
		report(p)
	}
	return p, nil
}

// cannotInsert reports errors that retrying the same rows cannot cure: a
// replay stops on them and says why, where the live writers dead-letter the
// rows or wait for the table to be fixed.
func cannotInsert(err error) bool {
	return errors.Is(err, pipeline.ErrRowsRefused) || errors.Is(err, pipeline.ErrCannotWrite)
}

// fraction is where t lies between from and to, from 0 to 1.
func fraction(t, from, to time.Time) float64 {
	if !to.After(from) {
		return 1
	}
	return min(1, max(0, float64(t.Sub(from))/float64(to.Sub(from))))
}
