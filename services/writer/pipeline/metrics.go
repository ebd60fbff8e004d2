package pipeline

import (
	"context"
	"time"

	"github.com/harbor-ingest/harbor/pkg/metric"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the writer's Prometheus metrics.
type metrics struct {
	batchRows      prometheus.Histogram
	insertDuration prometheus.Histogram
	rowsInserted   prometheus.Counter
	insertRetries  prometheus.Counter
	deadLettered   prometheus.Counter
	blocked        prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, cons jetstream.Consumer) *metrics {
	m := &metrics{
		batchRows:      metric.Histogram(reg, "harbor_writer_batch_rows", "Rows per ClickHouse insert.", prometheus.ExponentialBuckets(100, 4, 8)),
		insertDuration: metric.Histogram(reg, "harbor_writer_insert_duration_seconds", "Time of one successful ClickHouse insert.", prometheus.ExponentialBuckets(0.005, 2, 12)),
		rowsInserted:   metric.Counter(reg, "harbor_writer_rows_inserted_total", "Rows inserted into ClickHouse (a redelivered reading counts again)."),
		insertRetries:  metric.Counter(reg, "harbor_writer_insert_retries_total", "Failed ClickHouse inserts that were retried."),
		deadLettered:   metric.Counter(reg, "harbor_writer_dead_lettered_total", "Messages moved to the dead-letter stream (a message of which ClickHouse refuses some readings counts once per reason)."),
		blocked:        metric.Gauge(reg, "harbor_writer_blocked", "1 while the writer cannot write because the table refuses every insert (its columns changed, permissions); the reason is in /readyz and the log."),
	}
	reg.MustRegister(lagCollector{cons})
	return m
}

// lagCollector reads the consumer's lag from JetStream at each scrape.
type lagCollector struct{ cons jetstream.Consumer }

var (
	pendingDesc = prometheus.NewDesc("harbor_writer_consumer_pending",
		"Messages in the stream not yet delivered to any writer.", nil, nil)
	ackPendingDesc = prometheus.NewDesc("harbor_writer_consumer_ack_pending",
		"Messages delivered to writers and not yet acknowledged.", nil, nil)
)

func (lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- ackPendingDesc
}

func (l lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := l.cons.Info(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(pendingDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(info.NumPending))
	ch <- prometheus.MustNewConstMetric(ackPendingDesc, prometheus.GaugeValue, float64(info.NumAckPending))
}
