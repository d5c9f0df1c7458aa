package gridserver

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayering keeps the grid and the RESP server apart: neither links the
// other; this package is the only glue (with cmd/gridnode).
func TestLayering(t *testing.T) {
	for pkg, forbidden := range map[string]string{
		"github.com/sessiongrid/sessiongrid/grid":   "github.com/sessiongrid/sessiongrid/server",
		"github.com/sessiongrid/sessiongrid/server": "github.com/sessiongrid/sessiongrid/grid",
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		if slices.Contains(strings.Fields(string(out)), forbidden) {
			t.Errorf("%s links %s", pkg, forbidden)
		}
	}
}
