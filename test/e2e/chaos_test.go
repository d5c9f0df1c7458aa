package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Each chaos test starts its own cluster, runs the workload against every
// member, injects one fault while it runs, heals it, lets the workload run
// on, then checks the history: porcupine per key over the sessions and the
// globals, the set check for lost acknowledged writes, and that the cluster
// is safe again within a bound. The figures are logged and appended to
// build/e2e/figures.txt; porcupine's visualisation of a failure is written
// beside it.

// Phase lengths of the workload around a fault: seconds, not minutes (the
// whole suite runs on every CI submission).
const (
	before = 3 * time.Second
	after  = 3 * time.Second
)

type chaosConfig struct {
	size     int
	workload workloadConfig
	python   bool // the workload runs in Python (redis-py), not Go
}

// TestChaosBaseline runs the workload and the checks with no fault: the
// control for every other test.
func TestChaosBaseline(t *testing.T) {
	runChaos(t, chaosConfig{size: 3, workload: defaultWorkload()}, noFault{})
}

func TestChaosKill(t *testing.T) {
	runChaos(t, chaosConfig{size: 3, workload: defaultWorkload()}, &killFault{})
}

func TestChaosPause(t *testing.T) {
	runChaos(t, chaosConfig{size: 3, workload: defaultWorkload()}, &pauseFault{})
}

// TestChaosPausePython is TestChaosPause with the workload in Python
// (redis-py, as the pywce adapter calls the grid), checked the same way.
func TestChaosPausePython(t *testing.T) {
	runChaos(t, chaosConfig{size: 3, workload: defaultWorkload(), python: true}, &pauseFault{})
}

func TestChaosCut(t *testing.T) {
	runChaos(t, chaosConfig{size: 3, workload: defaultWorkload()}, &cutFault{})
}

// TestChaosIsolate cuts a member off from its peers while the test's
// clients still reach it (the minority side of a partition, with clients).
func TestChaosIsolate(t *testing.T) {
	if why := canIsolate(); why != "" {
		t.Skip("isolate fault " + why)
	}
	runChaos(t, chaosConfig{size: 3, workload: defaultWorkload()}, &isolateFault{})
}

func TestChaosRollingRestart(t *testing.T) {
	runChaos(t, chaosConfig{size: 3, workload: defaultWorkload()}, rollingRestart{})
}

func TestChaosLeaderLoss(t *testing.T) {
	w := defaultWorkload()
	w.GlobalShare = 0.4 // globals are written while their leader dies
	runChaos(t, chaosConfig{size: 3, workload: w}, &leaderLoss{})
}

func TestChaosKillTwoOfFive(t *testing.T) {
	w := defaultWorkload()
	w.WorkersPerMember = 1
	runChaos(t, chaosConfig{size: 5, workload: w}, &killTwo{})
}

// outDir is where figures and visualisations go: build/e2e in the
// repository (ignored by git), or $SESSIONGRID_E2E_OUT.
func outDir(t *testing.T) string {
	if d := os.Getenv("SESSIONGRID_E2E_OUT"); d != "" {
		return d
	}
	return filepath.Join(repoRoot(t), "build", "e2e")
}

func runChaos(t *testing.T, cfg chaosConfig, f fault) {
	c := startCluster(t, cfg.size)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Healthy before.
	if err := c.waitSafe(c.services, safeBound); err != nil {
		t.Fatalf("cluster-safe before the fault: %v", err)
	}
	began := time.Now()
	var w runner
	if cfg.python {
		var err error
		if w, err = startPythonWorkload(c, cfg.workload); err != nil {
			t.Fatalf("python workload: %v", err)
		}
	} else {
		w = startWorkload(c, cfg.workload)
	}
	stopped := false
	defer func() {
		if !stopped {
			w.Stop()
		}
	}()
	time.Sleep(before) // load before the fault (a phase of the workload, not a wait for a condition)

	// A fault that does not take effect or heal as it should fails the
	// test, but the history is still checked: the figures are wanted too.
	t0 := time.Now()
	injectErr := f.Inject(ctx, c)
	if injectErr != nil {
		t.Errorf("%s: inject: %v", f.Name(), injectErr)
	}
	injected := time.Since(t0)
	t1 := time.Now()
	if err := f.Heal(ctx, c); err != nil { // also after a failed Inject: undo what it did
		t.Errorf("%s: heal: %v", f.Name(), err)
	}
	healed := time.Since(t1)
	// Healthy after: cluster-safe (full backup count, no migration in
	// flight) within a bound.
	t2 := time.Now()
	if err := c.waitSafe(c.services, safeBound); err != nil {
		t.Errorf("%s: cluster-safe after the heal: %v", f.Name(), err)
	}
	safeAfter := time.Since(t2)
	time.Sleep(after) // load after the fault
	history, err := w.Stop()
	stopped = true
	if err != nil {
		t.Fatalf("workload: %v", err)
	}
	final := w.finalReads(c.services, history)
	t.Logf("%s: inject took %.1fs, heal %.1fs, cluster-safe %.1fs after; workload %.1fs, %d operations, %d final reads",
		f.Name(), injected.Seconds(), healed.Seconds(), safeAfter.Seconds(), time.Since(began).Seconds(), len(history), len(final))

	name := f.Name()
	if cfg.python {
		name += "-python"
	}
	check(t, name, history, final)
}

// check runs every checker over a history and fails t for each problem.
func check(t *testing.T, name string, history, final []op) {
	t.Helper()
	dir := outDir(t)
	lost, unreadable, corrupt := setCheck(history, final)
	fig := measure(history, len(lost))
	t.Logf("%s: %s", name, fig)
	appendFigures(t, dir, name, fig)
	for i, l := range lost {
		if i == 10 {
			t.Errorf("... and %d more", len(lost)-10)
			break
		}
		t.Errorf("lost: %s", l)
	}
	if len(lost) > 0 {
		t.Errorf("%s: %d acknowledged writes lost", name, len(lost))
	}
	if len(unreadable) > 0 {
		t.Errorf("%s: %d final reads failed after the heal, first: %s %s via %s: %s", name, len(unreadable),
			unreadable[0].Kind, unreadable[0].Key, unreadable[0].Member, unreadable[0].Err)
	}
	for i, o := range corrupt {
		if i == 5 {
			break
		}
		t.Errorf("%s: %s %s via %s read %q, a value never written", name, o.Kind, o.Key, o.Member, o.Read)
	}
	all := append(append([]op(nil), history...), final...)
	prefix := strings.ReplaceAll(t.Name(), "/", "_")
	if err := linearizable(prefix+"-sessions", sessionModel, porcupineOps(all, false), dir); err != nil {
		t.Errorf("%s: sessions not linearizable: %v", name, err)
	}
	if err := linearizable(prefix+"-globals", globalModel, porcupineOps(all, true), dir); err != nil {
		t.Errorf("%s: globals not linearizable: %v", name, err)
	}
}

func appendFigures(t *testing.T, dir, name string, fig figures) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("figures: %v", err)
		return
	}
	fh, err := os.OpenFile(filepath.Join(dir, "figures.txt"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Logf("figures: %v", err)
		return
	}
	defer fh.Close()
	fmt.Fprintf(fh, "%s %s %s\n", time.Now().UTC().Format(time.RFC3339), name, fig)
}
