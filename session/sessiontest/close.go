package sessiontest

import (
	"context"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// closeRules: Close is idempotent, and nothing panics after it. What other
// calls return after Close is not part of the contract here (a remote
// client may fail them differently); they must not panic.
func closeRules() []rule {
	return []rule{
		{"Idempotent", closeIdempotent},
		{"NoPanicAfterClose", closeNoPanic},
	}
}

func closeIdempotent(f *fixture) {
	f.save("s", "k", 1)
	ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer cancel()
	f.must("first Close", f.m.Close(ctx))
	f.must("second Close (Close is idempotent)", f.m.Close(ctx))
	f.must("third Close (Close is idempotent)", f.m.Close(ctx))
}

func closeNoPanic(f *fixture) {
	f.save("s", "k", 1)
	f.saveProp("s", "p", 1)
	f.saveGlobal("g", 1)
	f.must("Close", f.m.Close(f.ctx))
	ctx, m, h := f.ctx, f.m, f.m.Session("s")
	var dst any
	calls := []call{
		{"Save", func() error { return m.Save(ctx, "s", "k", 2) }},
		{"SaveAll", func() error { return m.SaveAll(ctx, "s", map[string]any{"k": 2}) }},
		{"Load", func() error { _, err := m.Load(ctx, "s", "k"); return err }},
		{"LoadInto", func() error { return m.LoadInto(ctx, "s", "k", &dst) }},
		{"FetchAll", func() error { _, err := m.FetchAll(ctx, "s"); return err }},
		{"Exists", func() error { _, err := m.Exists(ctx, "s", "k"); return err }},
		{"Evict", func() error { return m.Evict(ctx, "s", "k") }},
		{"EvictAll", func() error { return m.EvictAll(ctx, "s", "k") }},
		{"Clear", func() error { return m.Clear(ctx, "s", "k") }},
		{"SaveProp", func() error { return m.SaveProp(ctx, "s", "p", 2) }},
		{"LoadProp", func() error { _, err := m.LoadProp(ctx, "s", "p"); return err }},
		{"LoadPropInto", func() error { return m.LoadPropInto(ctx, "s", "p", &dst) }},
		{"Props", func() error { _, err := m.Props(ctx, "s"); return err }},
		{"EvictProp", func() error { _, err := m.EvictProp(ctx, "s", "p"); return err }},
		{"SetExpiry", func() error { return m.SetExpiry(ctx, "s", session.Expiry{}) }},
		{"TTL", func() error { _, err := m.TTL(ctx, "s"); return err }},
		{"SaveGlobal", func() error { return m.SaveGlobal(ctx, "g", 2) }},
		{"LoadGlobal", func() error { _, err := m.LoadGlobal(ctx, "g"); return err }},
		{"LoadGlobalInto", func() error { return m.LoadGlobalInto(ctx, "g", &dst) }},
		{"EvictGlobal", func() error { _, err := m.EvictGlobal(ctx, "g"); return err }},
		{"Globals", func() error { _, err := m.Globals(ctx); return err }},
		{"Get", func() error { _, err := session.Get[int](ctx, m, "s", "k"); return err }},
		{"handle Load", func() error { _, err := h.Load(ctx, "k"); return err }},
		{"Store().Get", func() error { _, err := m.Store().Get(ctx, "s", "k"); return err }},
		{"Clear(all)", func() error { return m.Clear(ctx, "s") }},
	}
	for _, c := range calls {
		f.notPanics(c.name+" after Close", func() { _ = c.run() })
	}
	f.notPanics("Close after Close", func() { _ = m.Close(ctx) })
}
