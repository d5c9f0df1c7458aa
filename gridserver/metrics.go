package gridserver

import "github.com/prometheus/client_golang/prometheus"

// The member's replication counters (grid.ReplicationStats) as Prometheus
// metrics: the Backend is a prometheus.Collector, which the RESP server
// registers with its own metrics.
var (
	descPromotions  = prometheus.NewDesc("gridnode_partition_promotions_total", "Partitions this member took over as primary from a failed or leaving one.", nil, nil)
	descResyncs     = prometheus.NewDesc("gridnode_backup_resyncs_total", "Backup copies that fell behind their primary here and were resynced.", nil, nil)
	descMigrations  = prometheus.NewDesc("gridnode_migrations_total", "Learners this member filled with a partition.", nil, nil)
	descDivergences = prometheus.NewDesc("gridnode_backup_divergences_total", "Backup copies anti-entropy found different from their primary's.", nil, nil)
	descBehind      = prometheus.NewDesc("gridnode_backups_behind", "Backup links of this member being resynced now.", nil, nil)
	descMigrating   = prometheus.NewDesc("gridnode_partitions_migrating", "Partitions with a learner being filled, in the table in force.", nil, nil)
	descBackupBytes = prometheus.NewDesc("gridnode_backup_payload_bytes", "Payload bytes of the backup copies this member holds.", nil, nil)
)

// Describe implements prometheus.Collector.
func (b *Backend) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPromotions, descResyncs, descMigrations, descDivergences, descBehind, descMigrating, descBackupBytes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (b *Backend) Collect(ch chan<- prometheus.Metric) {
	st := b.m.Node.ReplicationStats()
	ch <- prometheus.MustNewConstMetric(descPromotions, prometheus.CounterValue, float64(st.Promotions))
	ch <- prometheus.MustNewConstMetric(descResyncs, prometheus.CounterValue, float64(st.Resyncs))
	ch <- prometheus.MustNewConstMetric(descMigrations, prometheus.CounterValue, float64(st.Migrations))
	ch <- prometheus.MustNewConstMetric(descDivergences, prometheus.CounterValue, float64(st.Divergences))
	ch <- prometheus.MustNewConstMetric(descBehind, prometheus.GaugeValue, float64(st.Behind))
	ch <- prometheus.MustNewConstMetric(descMigrating, prometheus.GaugeValue, float64(st.Migrating))
	ch <- prometheus.MustNewConstMetric(descBackupBytes, prometheus.GaugeValue, float64(st.BackupBytes))
}
