package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/workflow"
)

// metrics are the service's Prometheus series, on the server's own
// registry (no global state).
type metrics struct {
	invocations *prometheus.CounterVec   // by trigger, status
	failures    *prometheus.CounterVec   // by trigger, error kind
	latency     *prometheus.HistogramVec // by trigger
	logsDropped prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowgate_invocations_total", Help: "Trigger calls by trigger and Result status (succeeded, failed, skipped).",
		}, []string{"trigger", "status"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowgate_invocation_failures_total", Help: "Failed invocations by trigger and error kind.",
		}, []string{"trigger", "kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "flowgate_invocation_duration_seconds", Help: "Trigger call latency inside the server, by trigger.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"trigger"}),
		logsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flowgate_runtime_logs_dropped_total", Help: "Runtime log rows dropped because the log store fell behind.",
		}),
	}
	reg.MustRegister(m.invocations, m.failures, m.latency, m.logsDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(trigger string, res *workflow.Result, d time.Duration) {
	m.invocations.WithLabelValues(trigger, res.Status).Inc()
	if res.Error != nil {
		m.failures.WithLabelValues(trigger, string(res.Error.Kind)).Inc()
	}
	m.latency.WithLabelValues(trigger).Observe(d.Seconds())
}

// syncCollector exports deploy's count of finished syncs, read when scraped.
type syncCollector struct{ d *deploy.Service }

var syncsDesc = prometheus.NewDesc("flowgate_syncs_total", "Finished syncs by outcome (succeeded, failed, skipped, error).", []string{"outcome"}, nil)

func (c syncCollector) Describe(ch chan<- *prometheus.Desc) { ch <- syncsDesc }

func (c syncCollector) Collect(ch chan<- prometheus.Metric) {
	for outcome, n := range c.d.SyncOutcomes() {
		ch <- prometheus.MustNewConstMetric(syncsDesc, prometheus.CounterValue, float64(n), outcome)
	}
}

// snapshots exports the health of the trigger path's in-memory state
// (deploy.Service.Snapshot): how stale it is and how often refreshing it
// failed, read when scraped.
func (m *metrics) snapshots(reg *prometheus.Registry, d *deploy.Service) {
	reg.MustRegister(
		syncCollector{d},
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "flowgate_runtime_logs_trimmed_total",
			Help: "Stored runtime log rows deleted, oldest first, to keep an environment within its quota.",
		}, func() float64 { return float64(d.LogsTrimmed()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "flowgate_runtime_state_refresh_failures_total",
			Help: "Failed reads of an environment's runtime state (live deployments, token, variables, keys); the last good state is served meanwhile.",
		}, func() float64 { return float64(d.SnapshotStats().RefreshFailures) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "flowgate_runtime_state_stale_served_total",
			Help: "Trigger calls answered from the last good runtime state because refreshing it failed.",
		}, func() float64 { return float64(d.SnapshotStats().ServedStale) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "flowgate_runtime_state_age_seconds",
			Help: "Age of the oldest runtime state in memory (grows while the database cannot be read).",
		}, func() float64 { return d.SnapshotStats().MaxAge.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "flowgate_runtime_state_refresh_failing",
			Help: "Environments whose runtime state cannot be refreshed now.",
		}, func() float64 { return float64(d.SnapshotStats().Failing) }),
	)
}
