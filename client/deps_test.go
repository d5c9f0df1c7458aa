package client

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependenciesStaySmall keeps the remote and smart clients light: a bot
// that only talks to gridnodes over the network must not link the grid
// (Raft, gossip, the bolt store, the Lua VM, Prometheus). The embedded peer
// lives in package peer for that reason.
func TestDependenciesStaySmall(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/sessiongrid/sessiongrid/client").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	forbidden := []string{
		"github.com/hashicorp/raft", "github.com/hashicorp/memberlist", "go.etcd.io/bbolt",
		"github.com/yuin/gopher-lua", "github.com/prometheus/client_golang",
		"github.com/sessiongrid/sessiongrid/grid", "github.com/sessiongrid/sessiongrid/cluster",
		"github.com/sessiongrid/sessiongrid/server", "github.com/sessiongrid/sessiongrid/transport",
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("client links %s", d)
			}
		}
	}
	// Today: go-redis (16 packages with its internals), xxhash, consistent,
	// x/sys/cpu, go.uber.org/atomic and three of ours.
	t.Logf("client links %d packages outside the standard library: %v", len(deps), deps)
	if len(deps) > 30 {
		t.Errorf("client links %d packages outside the standard library (more than 30): a heavy dependency crept in", len(deps))
	}
}
