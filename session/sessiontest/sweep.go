package sessiontest

import (
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// sweepRules: a store that implements session.Sweeper removes expired
// sessions, and only those, when Sweep runs.
func sweepRules() []rule {
	return []rule{
		{"RemovesExpired", sweepRemovesExpired},
		{"KeepsLive", sweepKeepsLive},
		{"KeepsSlidSessions", sweepKeepsSlid},
	}
}

// sweeper returns the store's Sweeper or skips the rule.
func (f *fixture) sweeper() session.Sweeper {
	f.t.Helper()
	sw, ok := f.m.Store().(session.Sweeper)
	if !ok {
		f.t.Skipf("the store (%T) does not implement session.Sweeper", f.m.Store())
	}
	return sw
}

func (f *fixture) sweep(sw session.Sweeper) int {
	f.t.Helper()
	n, err := sw.Sweep(f.ctx)
	f.must("Sweep", err)
	if n < 0 {
		f.t.Errorf("Sweep returned %d removed sessions", n)
	}
	return n
}

func sweepRemovesExpired(f *fixture) {
	sw := f.sweeper()
	const expired = 5
	for i := range expired {
		id := fmt.Sprintf("old-%d", i)
		f.save(id, "stage", i)
		if i%2 == 0 {
			f.saveProp(id, "name", "Ada")
		}
	}
	f.saveProp("old-props-only", "name", "Ada")
	f.elapse(f.idle + f.margin)
	before := f.now()
	f.save("live", "stage", "menu")
	f.saveProp("live-props", "name", "Ada")

	if n := f.sweep(sw); n < expired+1 {
		f.t.Errorf("Sweep after %d sessions expired removed %d, want at least %d", expired+1, n, expired+1)
	}
	for i := range expired {
		f.wantNoSession(fmt.Sprintf("old-%d", i))
		f.wantKeyNotFound(fmt.Sprintf("old-%d", i), "stage")
	}
	f.wantNoSession("old-props-only")
	f.still("Sweep must keep live sessions", before.Add(f.idle), func() error {
		if err := f.dataIs("live", map[string]any{"stage": "menu"}); err != nil {
			return err
		}
		return f.propsAre("live-props", map[string]any{"name": "Ada"})
	})
	f.sweep(sw)
	for i := range expired {
		f.wantNoSession(fmt.Sprintf("old-%d", i))
	}
	f.still("a second Sweep must keep live sessions", before.Add(f.idle), func() error {
		return f.dataIs("live", map[string]any{"stage": "menu"})
	})
}

func sweepKeepsLive(f *fixture) {
	sw := f.sweeper()
	before := f.now()
	for i := range 3 {
		id := fmt.Sprintf("live-%d", i)
		f.save(id, "stage", i)
		f.saveProp(id, "name", id)
	}
	f.save("forever", "stage", "menu")
	f.must("SetExpiry(NoExpiry)", f.m.SetExpiry(f.ctx, "forever", session.Expiry{Idle: session.NoExpiry}))
	f.elapse(f.idle / 2)
	f.still("Sweep must keep live sessions", before.Add(f.idle), func() error {
		if n := f.sweep(sw); n != 0 {
			return fmt.Errorf("Sweep with no expired session removed %d", n)
		}
		for i := range 3 {
			id := fmt.Sprintf("live-%d", i)
			if err := f.dataIs(id, map[string]any{"stage": float64(i)}); err != nil {
				return err
			}
			if err := f.propsAre(id, map[string]any{"name": id}); err != nil {
				return err
			}
		}
		return nil
	})
	f.elapse(f.idle)
	if n := f.sweep(sw); n < 3 {
		f.t.Errorf("Sweep after 3 sessions expired removed %d, want at least 3", n)
	}
	f.wantData("forever", map[string]any{"stage": "menu"})
}

func sweepKeepsSlid(f *fixture) {
	sw := f.sweeper()
	f.save("slid", "stage", "menu")
	f.elapse(f.idle * 2 / 3)
	before := f.now()
	f.saveProp("slid", "name", "Ada")
	f.elapse(f.idle * 2 / 3)
	f.sweep(sw)
	f.still("Sweep must keep a session whose idle timeout slid", before.Add(f.idle), func() error {
		return f.dataIs("slid", map[string]any{"stage": "menu"})
	})
}
