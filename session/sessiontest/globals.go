package sessiontest

import (
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// globalRules: globals are one map shared by all sessions, in a namespace of
// their own that no session id can reach.
func globalRules() []rule {
	return []rule{
		{"RoundTrip", globalRoundTrip},
		{"ReadBackUnderSameKey", globalSameKey},
		{"OwnNamespace", globalNamespace},
		{"AreNotSessions", globalNotSessions},
	}
}

func globalRoundTrip(f *fixture) {
	rates := map[string]float64{"USD": 1, "ZWG": 26.7}
	f.saveGlobal("rates", rates)
	f.saveGlobal("welcome", "Hi!")
	f.saveGlobal("limit", 100)
	f.saveGlobal("nil", nil)

	v, err := f.m.LoadGlobal(f.ctx, "welcome")
	f.must("LoadGlobal(welcome)", err)
	f.wantEqual("LoadGlobal(welcome)", v, "Hi!")
	v, err = f.m.LoadGlobal(f.ctx, "nil")
	f.must("LoadGlobal(nil)", err)
	f.wantEqual("LoadGlobal(nil)", v, nil)
	var got map[string]float64
	f.must("LoadGlobalInto(rates)", f.m.LoadGlobalInto(f.ctx, "rates", &got))
	f.wantEqual("LoadGlobalInto(rates)", got, rates)
	limit, err := session.GetGlobal[int](f.ctx, f.m, "limit")
	f.must("GetGlobal[int](limit)", err)
	f.wantEqual("GetGlobal[int](limit)", limit, 100)
	p := sampleProfile()
	f.saveGlobal("profile", p)
	gp, err := session.GetGlobal[profile](f.ctx, f.m, "profile")
	f.must("GetGlobal[profile]", err)
	f.wantEqual("GetGlobal[profile]", gp, p)

	f.wantGlobals(map[string]any{
		"rates":   map[string]any{"USD": 1.0, "ZWG": 26.7},
		"welcome": "Hi!",
		"limit":   100.0,
		"nil":     nil,
		"profile": sampleProfileJSON(),
	})

	f.saveGlobal("limit", 200)
	limit, err = session.GetGlobal[int](f.ctx, f.m, "limit")
	f.must("GetGlobal[int](limit) after overwrite", err)
	f.wantEqual("GetGlobal[int](limit) after overwrite", limit, 200)

	for _, k := range []string{"limit", "nil"} {
		f.wantBool("EvictGlobal("+k+")", true)(f.m.EvictGlobal(f.ctx, k))
		f.wantBool("EvictGlobal("+k+") again", false)(f.m.EvictGlobal(f.ctx, k))
		f.wantGlobalNotFound(k)
	}
	f.wantGlobals(map[string]any{
		"rates":   map[string]any{"USD": 1.0, "ZWG": 26.7},
		"welcome": "Hi!",
		"profile": sampleProfileJSON(),
	})
}

// globalSameKey: a global saved under k is read back under k, for keys that
// look alike.
func globalSameKey(f *fixture) {
	keys := []string{"k1", "k2", "k", "K1", "k1 ", "global", "global:k1", "k1:global", "session", "*", "global_k1"}
	for i, k := range keys {
		f.saveGlobal(k, i)
	}
	want := map[string]any{}
	for i, k := range keys {
		v, err := session.GetGlobal[int](f.ctx, f.m, k)
		f.must(fmt.Sprintf("GetGlobal(%q)", k), err)
		if v != i {
			f.t.Errorf("GetGlobal(%q) = %d, want %d (the value saved under that key)", k, v, i)
		}
		want[k] = float64(i)
	}
	f.wantGlobals(want)
}

// globalNamespace: no session id, "global" included, reads or overwrites a
// global, and no global reaches a session.
func globalNamespace(f *fixture) {
	ids := []string{"global", "globals", "GLOBAL", "__global__", "global:", ":global", "_", "*", "0"}
	f.saveGlobal("k", "global value")
	f.saveGlobal("p", "global value")
	for _, id := range ids {
		f.save(id, "k", "data of "+id)
		f.saveProp(id, "p", "prop of "+id)
	}
	want := map[string]any{"k": "global value", "p": "global value"}
	f.wantGlobals(want)
	for _, id := range ids {
		f.wantData(id, map[string]any{"k": "data of " + id})
		f.wantProps(id, map[string]any{"p": "prop of " + id})
	}

	// Writing globals leaves the sessions alone.
	f.saveGlobal("k", "global value 2")
	f.saveGlobal("new", true)
	for _, id := range ids {
		f.wantLoad(id, "k", "data of "+id)
		f.wantKeyNotFound(id, "new")
	}
	// Clearing and evicting in sessions leaves the globals alone.
	for _, id := range ids {
		f.must("Evict", f.m.Evict(f.ctx, id, "k"))
		f.must("Clear", f.m.Clear(f.ctx, id))
	}
	want = map[string]any{"k": "global value 2", "p": "global value", "new": true}
	f.wantGlobals(want)
	v, err := f.m.LoadGlobal(f.ctx, "k")
	f.must("LoadGlobal(k)", err)
	f.wantEqual("LoadGlobal(k) after sessions were cleared", v, "global value 2")

	// Evicting globals leaves the sessions alone.
	f.save("global", "k", "data")
	if _, err := f.m.EvictGlobal(f.ctx, "k"); err != nil {
		f.t.Fatalf("EvictGlobal(k): %v", err)
	}
	f.wantLoad("global", "k", "data")
}

// globalNotSessions: saving globals creates no session.
func globalNotSessions(f *fixture) {
	f.saveGlobal("k", 1)
	for _, id := range []string{"global", "globals", "__global__", "k"} {
		f.wantNoSession(id)
	}
}
