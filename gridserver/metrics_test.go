package gridserver_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessiongrid/sessiongrid/gridserver/gridtest"
)

// TestReplicationMetrics: a grid member's /metrics carries its replication
// counters (the Backend is a prometheus.Collector the server registers).
func TestReplicationMetrics(t *testing.T) {
	g := gridtest.Start(t, gridtest.Options{Members: 1})
	rec := httptest.NewRecorder()
	g.Nodes[0].Server.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	for _, name := range []string{
		"gridnode_partition_promotions_total", "gridnode_backup_resyncs_total", "gridnode_migrations_total",
		"gridnode_backup_divergences_total", "gridnode_backups_behind", "gridnode_partitions_migrating",
		"gridnode_backup_payload_bytes",
	} {
		if !strings.Contains(string(body), "\n"+name+" ") {
			t.Errorf("/metrics has no %s", name)
		}
	}
}
