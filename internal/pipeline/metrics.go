package pipeline

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of the pipeline. A nil *Metrics
// records nothing.
type Metrics struct {
	fetches     *prometheus.CounterVec
	itemsNew    *prometheus.CounterVec
	itemsRel    *prometheus.CounterVec
	deliveries  *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	cut         *prometheus.CounterVec
}

// OutboxDepther tells how many deliveries are pending per sink.
type OutboxDepther interface {
	OutboxDepth(ctx context.Context) (map[string]int, error)
}

// NewMetrics registers the pipeline's metrics with reg. The outbox depth
// is read from st at scrape time.
func NewMetrics(reg prometheus.Registerer, st OutboxDepther) *Metrics {
	m := &Metrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treatywatch_fetches_total",
			Help: "Source runs by source and outcome (ok, not-modified, or the failure kind).",
		}, []string{"source", "outcome"}),
		itemsNew: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treatywatch_items_new_total",
			Help: "Items not seen before, by source.",
		}, []string{"source"}),
		itemsRel: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treatywatch_items_relevant_total",
			Help: "New items the classifier found relevant, by source.",
		}, []string{"source"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treatywatch_deliveries_total",
			Help: "Records offered to sinks, by sink and outcome (ok, failed).",
		}, []string{"sink", "outcome"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "treatywatch_source_last_success_timestamp_seconds",
			Help: "Unix time of the last successful run of each source.",
		}, []string{"source"}),
	}
	m.cut = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "treatywatch_fields_truncated_total",
		Help: "Item fields cut to their cap (fields: in the config), by field.",
	}, []string{"field"})
	reg.MustRegister(m.cut)
	reg.MustRegister(m.fetches, m.itemsNew, m.itemsRel, m.deliveries, m.lastSuccess, outboxCollector{st})
	return m
}

func (m *Metrics) fetched(source, outcome string, success time.Time) {
	if m == nil {
		return
	}
	m.fetches.WithLabelValues(source, outcome).Inc()
	if !success.IsZero() {
		m.lastSuccess.WithLabelValues(source).Set(float64(success.Unix()))
	}
}

func (m *Metrics) items(source string, fresh, relevant int) {
	if m == nil {
		return
	}
	m.itemsNew.WithLabelValues(source).Add(float64(fresh))
	m.itemsRel.WithLabelValues(source).Add(float64(relevant))
}

func (m *Metrics) delivered(sink, outcome string, n int) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(sink, outcome).Add(float64(n))
}

var outboxDesc = prometheus.NewDesc("treatywatch_outbox_pending",
	"Records queued and not yet taken, by sink.", []string{"sink"}, nil)

// outboxCollector reads the outbox depth from the store at scrape time.
type outboxCollector struct{ st OutboxDepther }

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- outboxDesc }

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	depth, err := c.st.OutboxDepth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxDesc, err)
		return
	}
	for sink, n := range depth {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(n), sink)
	}
}

func (m *Metrics) truncated(field string) {
	if m == nil {
		return
	}
	m.cut.WithLabelValues(field).Inc()
}
