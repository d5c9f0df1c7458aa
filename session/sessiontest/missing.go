package sessiontest

import (
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// missingRules: a single read of something missing is ErrNotFound, a
// collection read of something missing is an empty non-nil map, removing
// something missing is not an error, and none of these creates a session.
func missingRules() []rule {
	return []rule{
		{"KeyAndSession", missingKeyAndSession},
		{"Prop", missingProp},
		{"Global", missingGlobal},
		{"EmptyCollections", missingEmptyCollections},
		{"RemoveMissing", missingRemove},
		{"ExpiryOfMissing", missingExpiry},
	}
}

// wantKeyNotFound checks every single-value data read of key in id.
func (f *fixture) wantKeyNotFound(id, key string) {
	f.t.Helper()
	where := fmt.Sprintf("(%q, %q)", id, key)
	var dst profile
	h := f.m.Session(id)
	f.wantAll(session.ErrNotFound, []call{
		{"Load" + where, func() error { return errOf(f.m.Load(f.ctx, id, key)) }},
		{"LoadInto" + where, func() error { return f.m.LoadInto(f.ctx, id, key, &dst) }},
		{"Get[string]" + where, func() error { return errOf(session.Get[string](f.ctx, f.m, id, key)) }},
		{"Get[profile]" + where, func() error { return errOf(session.Get[profile](f.ctx, f.m, id, key)) }},
		{"handle Load" + where, func() error { return errOf(h.Load(f.ctx, key)) }},
		{"handle LoadInto" + where, func() error { return h.LoadInto(f.ctx, key, &dst) }},
		{"HandleGet[int]" + where, func() error { return errOf(session.HandleGet[int](f.ctx, h, key)) }},
	})
	f.wantBool("Exists"+where, false)(f.m.Exists(f.ctx, id, key))
}

// wantPropNotFound checks every single-value prop read of key in id.
func (f *fixture) wantPropNotFound(id, key string) {
	f.t.Helper()
	where := fmt.Sprintf("(%q, %q)", id, key)
	var dst map[string]any
	h := f.m.Session(id)
	f.wantAll(session.ErrNotFound, []call{
		{"LoadProp" + where, func() error { return errOf(f.m.LoadProp(f.ctx, id, key)) }},
		{"LoadPropInto" + where, func() error { return f.m.LoadPropInto(f.ctx, id, key, &dst) }},
		{"GetProp[string]" + where, func() error { return errOf(session.GetProp[string](f.ctx, f.m, id, key)) }},
		{"handle LoadProp" + where, func() error { return errOf(h.LoadProp(f.ctx, key)) }},
		{"handle LoadPropInto" + where, func() error { return h.LoadPropInto(f.ctx, key, &dst) }},
		{"HandleGetProp[bool]" + where, func() error { return errOf(session.HandleGetProp[bool](f.ctx, h, key)) }},
	})
}

// wantGlobalNotFound checks every single-value read of global key.
func (f *fixture) wantGlobalNotFound(key string) {
	f.t.Helper()
	where := fmt.Sprintf("(%q)", key)
	var dst []string
	f.wantAll(session.ErrNotFound, []call{
		{"LoadGlobal" + where, func() error { return errOf(f.m.LoadGlobal(f.ctx, key)) }},
		{"LoadGlobalInto" + where, func() error { return f.m.LoadGlobalInto(f.ctx, key, &dst) }},
		{"GetGlobal[int]" + where, func() error { return errOf(session.GetGlobal[int](f.ctx, f.m, key)) }},
	})
}

func missingKeyAndSession(f *fixture) {
	f.wantKeyNotFound("nobody", "stage")
	f.wantNoSession("nobody") // reads did not create it
	f.save("somebody", "stage", "menu")
	f.saveProp("somebody", "name", "Ada")
	f.wantKeyNotFound("somebody", "prev_stage")
	f.wantKeyNotFound("somebody", "name") // a prop is not a data key
	f.wantKeyNotFound("somebody", "stag")
	f.wantKeyNotFound("somebody", "stage ")
	f.wantData("somebody", map[string]any{"stage": "menu"})
}

func missingProp(f *fixture) {
	f.wantPropNotFound("nobody", "name")
	f.wantNoSession("nobody")
	f.save("data-only", "name", "a data key")
	f.wantPropNotFound("data-only", "name")
	f.saveProp("with-props", "name", "Ada")
	f.wantPropNotFound("with-props", "age")
	f.wantPropNotFound("with-props", "nam")
}

func missingGlobal(f *fixture) {
	f.wantGlobalNotFound("rates")
	f.saveGlobal("rates", map[string]float64{"USD": 1})
	f.save("global", "config", "session data")
	f.saveProp("global", "config", "session prop")
	f.wantGlobalNotFound("config")
	f.wantGlobalNotFound("rate")
}

func missingEmptyCollections(f *fixture) {
	f.wantData("nobody", map[string]any{})
	f.wantProps("nobody", map[string]any{})
	f.wantGlobals(map[string]any{})
	h := f.m.Session("nobody")
	all, err := h.FetchAll(f.ctx)
	if err := collection("handle FetchAll of a missing session", all, err, map[string]any{}); err != nil {
		f.t.Error(err)
	}
	props, err := h.Props(f.ctx)
	if err := collection("handle Props of a missing session", props, err, map[string]any{}); err != nil {
		f.t.Error(err)
	}
	f.wantNoSession("nobody")

	f.saveProp("props-only", "name", "Ada")
	f.wantData("props-only", map[string]any{})
	f.save("data-only", "stage", "menu")
	f.wantProps("data-only", map[string]any{})
}

func missingRemove(f *fixture) {
	const id = "nobody"
	f.must("Evict of a missing session", f.m.Evict(f.ctx, id, "stage"))
	f.must("EvictAll of a missing session", f.m.EvictAll(f.ctx, id, "a", "b"))
	f.wantBool("EvictProp of a missing session", false)(f.m.EvictProp(f.ctx, id, "name"))
	f.must("Clear of a missing session", f.m.Clear(f.ctx, id))
	f.must("Clear(retain) of a missing session", f.m.Clear(f.ctx, id, "stage", "name"))
	h := f.m.Session(id)
	f.must("handle Evict", h.Evict(f.ctx, "stage"))
	f.must("handle EvictAll", h.EvictAll(f.ctx, "stage"))
	f.must("handle Clear", h.Clear(f.ctx))
	f.wantBool("handle EvictProp", false)(h.EvictProp(f.ctx, "name"))
	f.wantBool("EvictGlobal of a missing global", false)(f.m.EvictGlobal(f.ctx, "nothing"))
	f.wantNoSession(id) // none of the removals created it
	f.wantGlobals(map[string]any{})

	// Missing keys and props of an existing session.
	f.save("somebody", "stage", "menu")
	f.saveProp("somebody", "name", "Ada")
	f.must("Evict of a missing key", f.m.Evict(f.ctx, "somebody", "other"))
	f.wantBool("EvictProp of a missing prop", false)(f.m.EvictProp(f.ctx, "somebody", "other"))
	f.wantData("somebody", map[string]any{"stage": "menu"})
	f.wantProps("somebody", map[string]any{"name": "Ada"})
}

func missingExpiry(f *fixture) {
	_, err := f.m.TTL(f.ctx, "nobody")
	f.wantErr("TTL of a missing session", err, session.ErrNotFound)
	f.wantErr("SetExpiry of a missing session", f.m.SetExpiry(f.ctx, "nobody", session.Expiry{Idle: f.idle}), session.ErrNotFound)
	f.wantErr("SetExpiry(NoExpiry) of a missing session", f.m.SetExpiry(f.ctx, "nobody", session.Expiry{Idle: session.NoExpiry}), session.ErrNotFound)
	h := f.m.Session("nobody")
	_, err = h.TTL(f.ctx)
	f.wantErr("handle TTL of a missing session", err, session.ErrNotFound)
	f.wantErr("handle SetExpiry of a missing session", h.SetExpiry(f.ctx, session.Expiry{TTL: f.idle}), session.ErrNotFound)
	f.wantNoSession("nobody")
}
