// Package metric makes the Prometheus metrics of Harbor's services, a
// line each: a metric is made with its name and help and registered on
// the service's registry in one call.
package metric

import "github.com/prometheus/client_golang/prometheus"

// Counter registers on reg, and returns, a counter.
func Counter(reg prometheus.Registerer, name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	reg.MustRegister(c)
	return c
}

// Gauge registers on reg, and returns, a gauge.
func Gauge(reg prometheus.Registerer, name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	reg.MustRegister(g)
	return g
}

// Histogram registers on reg, and returns, a histogram of the given
// buckets.
func Histogram(reg prometheus.Registerer, name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	reg.MustRegister(h)
	return h
}
