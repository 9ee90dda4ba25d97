// Package metrics holds capstan's Prometheus metrics (all named capstan_*)
// and the feeds that update them: the engine's change hook, awsapi's call
// record and retry hook, and the webhook and schedule triggers.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
)

// Metrics is one process's set of metrics, on a registry of its own (so
// tests and several servers in one process do not share counters).
type Metrics struct {
	reg             *prometheus.Registry
	started         *prometheus.CounterVec
	finished        *prometheus.CounterVec
	stepDuration    *prometheus.HistogramVec
	awsCalls        *prometheus.CounterVec
	throttleRetries *prometheus.CounterVec
	webhookFirings  *prometheus.CounterVec
	scheduleFirings *prometheus.CounterVec
	logShipments    *prometheus.CounterVec
}

// New registers the metrics. running reports how many executions this
// process runs now (the queue depth gauge); nil leaves the gauge out.
func New(running func() int) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capstan_executions_started_total", Help: "Executions started, by mode (Auto, Interactive).",
		}, []string{"mode"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capstan_executions_finished_total", Help: "Executions that reached a final status, by status (Success, Failed, Cancelled, TimedOut).",
		}, []string{"status"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "capstan_step_duration_seconds", Help: "Duration of finished step executions (every attempt included), by action and status.",
			Buckets: []float64{.005, .025, .1, .5, 1, 5, 15, 60, 300, 900, 3600},
		}, []string{"action", "status"}),
		awsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capstan_aws_calls_total", Help: "AWS API calls made by executions (retries included in one call), by service, operation and error code (\"\" for success).",
		}, []string{"service", "operation", "code"}),
		throttleRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capstan_aws_throttling_retries_total", Help: "Attempts of AWS calls retried because AWS throttled them, by service and operation.",
		}, []string{"service", "operation"}),
		webhookFirings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capstan_webhook_firings_total", Help: "Webhook requests, by webhook and outcome (started, rejected, failed).",
		}, []string{"webhook", "outcome"}),
		scheduleFirings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capstan_schedule_firings_total", Help: "Schedule firings, by schedule and outcome (started, skipped, failed).",
		}, []string{"schedule", "outcome"}),
		logShipments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capstan_log_shipments_total", Help: "Copies of execution records to S3 (dest s3) and of step output to CloudWatch Logs (dest logs), by outcome (ok, failed).",
		}, []string{"dest", "outcome"}),
	}
	m.reg.MustRegister(m.started, m.finished, m.stepDuration, m.awsCalls, m.throttleRetries, m.webhookFirings, m.scheduleFirings, m.logShipments,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if running != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "capstan_executions_running", Help: "Executions this process is running now (in progress or waiting), its queue depth.",
		}, func() float64 { return float64(running()) }))
	}
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// OnChange feeds the execution and step metrics; it is the engine's
// Options.OnChange (or part of it).
func (m *Metrics) OnChange(st *engine.State, ev store.Event) {
	c := engine.Observe(st, ev)
	switch {
	case c.Started:
		mode := st.Started.Mode
		if mode == "" {
			mode = engine.ModeAuto
		}
		m.started.WithLabelValues(string(mode)).Inc()
	case c.Finished:
		m.finished.WithLabelValues(st.Status).Inc()
	case c.Step != nil:
		d := c.Step.EndTime.Sub(c.Step.StartTime)
		m.stepDuration.WithLabelValues(c.Step.Action, c.Step.Status).Observe(max(d, 0).Seconds())
	}
}

// AWSCall counts one AWS call by its outcome.
func (m *Metrics) AWSCall(service, operation, code string) {
	m.awsCalls.WithLabelValues(service, operation, code).Inc()
}

// ThrottlingRetry counts one retried attempt of a throttled AWS call.
func (m *Metrics) ThrottlingRetry(service, operation string) {
	m.throttleRetries.WithLabelValues(service, operation).Inc()
}

// WebhookFired counts a webhook request by outcome.
func (m *Metrics) WebhookFired(webhook, outcome string) {
	m.webhookFirings.WithLabelValues(webhook, outcome).Inc()
}

// ScheduleFired counts a schedule firing by outcome.
func (m *Metrics) ScheduleFired(schedule, outcome string) {
	m.scheduleFirings.WithLabelValues(schedule, outcome).Inc()
}

// LogShipped counts one copy of a record (dest "s3") or of step output
// (dest "logs").
func (m *Metrics) LogShipped(dest string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	m.logShipments.WithLabelValues(dest, outcome).Inc()
}
