package server

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// durationBuckets are the latency buckets of the command histograms, in
// seconds: 5 µs to 1 s.
var durationBuckets = []float64{
	5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1,
}

// metrics holds the server's Prometheus registry. Per-command instruments
// are resolved once, into the command table, so that the request path
// does no label lookup.
type metrics struct {
	reg     *prometheus.Registry
	unknown prometheus.Counter
	// authFailures counts failed AUTH and HELLO AUTH attempts.
	authFailures prometheus.Counter
	// pubsubSlow counts subscribers disconnected over PubsubOutputLimit;
	// published counts messages published here (PUBLISH and keyspace
	// notifications).
	pubsubSlow, published atomic.Int64
	// closed counts the connections the server closed, by reason (the
	// closed* constants).
	closed *prometheus.CounterVec
}

// Reasons of gridnode_clients_closed_total.
const (
	closedProtectedMode = "protected_mode"
	closedIdle          = "idle_timeout"
	closedOutputLimit   = "output_buffer_limit"
	closedWriteTimeout  = "write_timeout"
)

func newMetrics(s *Server) *metrics {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gridnode_commands_total",
		Help: "Commands served, by command (including those answered with an error).",
	}, []string{"command"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gridnode_command_errors_total",
		Help: "Commands answered with an error reply, by command.",
	}, []string{"command"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gridnode_command_duration_seconds",
		Help:    "Time to execute a command in the server (parsing and network excluded), by command.",
		Buckets: durationBuckets,
	}, []string{"command"})
	for i := range s.table {
		cmd := &s.table[i]
		cmd.calls = calls.WithLabelValues(cmd.name)
		cmd.errors = errs.WithLabelValues(cmd.name)
		cmd.duration = dur.WithLabelValues(cmd.name)
	}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		unknown: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gridnode_unknown_commands_total",
			Help: "Requests naming a command the server does not know.",
		}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gridnode_auth_failures_total",
			Help: "Failed AUTH and HELLO AUTH attempts.",
		}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridnode_clients_closed_total",
			Help: "Client connections the server closed, by reason: protected_mode, idle_timeout, output_buffer_limit (a reply over --client-output-limit), write_timeout (a client that did not read its replies within --client-write-timeout).",
		}, []string{"reason"}),
	}
	for _, r := range []string{closedProtectedMode, closedIdle, closedOutputLimit, closedWriteTimeout} {
		m.closed.WithLabelValues(r) // exported at 0 from the start
	}
	m.reg.MustRegister(calls, errs, dur, m.unknown, m.authFailures, m.closed,
		counterFunc("gridnode_pubsub_slow_disconnects_total",
			"Pub/Sub clients disconnected because their pending output passed the limit (--pubsub-output-limit).",
			func() float64 { return float64(m.pubsubSlow.Load()) }),
		counterFunc("gridnode_pubsub_published_total",
			"Messages published on this member (PUBLISH and keyspace notifications).",
			func() float64 { return float64(m.published.Load()) }),
		&serverCollector{s: s},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if ps, ok := s.backend.(PubsubStatser); ok {
		m.reg.MustRegister(
			counterFunc("gridnode_pubsub_broadcast_dropped_total",
				"Published messages not sent to the other members because the broadcast queue was full.",
				func() float64 { d, _ := ps.PubsubStats(); return float64(d) }),
			counterFunc("gridnode_pubsub_broadcast_failed_total",
				"Frames of published messages a member did not acknowledge (its subscribers may have missed them).",
				func() float64 { _, f := ps.PubsubStats(); return float64(f) }))
	}
	if c, ok := s.backend.(prometheus.Collector); ok { // a grid member's replication counters
		m.reg.MustRegister(c)
	}
	return m
}

// counterFunc is a counter read from value at each scrape.
func counterFunc(name, help string, value func() float64) prometheus.CounterFunc {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, value)
}

// serverCollector reports the connection counters and, when the backend
// has Stats, the keyspace, read once per scrape.
type serverCollector struct{ s *Server }

var (
	descConns = prometheus.NewDesc("gridnode_connections",
		"Open client connections.", nil, nil)
	descConnsTotal = prometheus.NewDesc("gridnode_connections_total",
		"Client connections accepted.", nil, nil)
	descRejected = prometheus.NewDesc("gridnode_rejected_connections_total",
		"Client connections refused because of the max-clients limit.", nil, nil)
	descNetIn = prometheus.NewDesc("gridnode_net_input_bytes_total",
		"Bytes read from clients.", nil, nil)
	descNetOut = prometheus.NewDesc("gridnode_net_output_bytes_total",
		"Bytes written to clients.", nil, nil)
	descKeys = prometheus.NewDesc("gridnode_keys",
		"Keys in the keyspace, by kind (session or string).", []string{"kind"}, nil)
	descGlobals = prometheus.NewDesc("gridnode_globals",
		"Globals held.", nil, nil)
	descBytes = prometheus.NewDesc("gridnode_payload_bytes",
		"Bytes of ids, keys and values held by the store (payload, not overhead).", nil, nil)
	descExpired = prometheus.NewDesc("gridnode_expired_keys_total",
		"Keys removed because they expired.", nil, nil)
)

func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConns, descConnsTotal, descRejected, descNetIn, descNetOut} {
		ch <- d
	}
	if c.s.stats != nil {
		for _, d := range []*prometheus.Desc{descKeys, descGlobals, descBytes, descExpired} {
			ch <- d
		}
	}
}

func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	t, open := c.s.totals()
	ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(descConnsTotal, prometheus.CounterValue, float64(c.s.accepted.Load()))
	ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(c.s.rejected.Load()))
	ch <- prometheus.MustNewConstMetric(descNetIn, prometheus.CounterValue, float64(t.in))
	ch <- prometheus.MustNewConstMetric(descNetOut, prometheus.CounterValue, float64(t.out))
	if c.s.stats == nil {
		return
	}
	st := c.s.stats.Stats()
	ch <- prometheus.MustNewConstMetric(descKeys, prometheus.GaugeValue, float64(st.Sessions), "session")
	ch <- prometheus.MustNewConstMetric(descKeys, prometheus.GaugeValue, float64(st.Strings), "string")
	ch <- prometheus.MustNewConstMetric(descGlobals, prometheus.GaugeValue, float64(st.Globals))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(descExpired, prometheus.CounterValue, float64(st.Expired))
}
