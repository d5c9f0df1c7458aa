package gridserver

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayering keeps the grid and the RESP server apart: neither links the
// other; this package is the only glue (with cmd/gridnode). The server
// links no backend either: it serves whatever session.Store it is given.
func TestLayering(t *testing.T) {
	for pkg, forbidden := range map[string][]string{
		"github.com/sessiongrid/sessiongrid/grid": {"github.com/sessiongrid/sessiongrid/server"},
		// The RESP server serves any session.Store: no backend of its own.
		"github.com/sessiongrid/sessiongrid/server": {"github.com/sessiongrid/sessiongrid/grid", "github.com/sessiongrid/sessiongrid/session/memory"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, f := range forbidden {
			if slices.Contains(strings.Fields(string(out)), f) {
				t.Errorf("%s links %s", pkg, f)
			}
		}
	}
}
