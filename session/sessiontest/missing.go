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

// wantNotFound checks every single-value data read of key in id.
func (f *fixture) wantKeyNotFound(id, key string) {
	f.t.Helper()
	where := fmt.Sprintf("(%q, %q)", id, key)
	_, err := f.m.Load(f.ctx, id, key)
	f.wantErr("Load"+where, err, session.ErrNotFound)
	var dst profile
	f.wantErr("LoadInto"+where, f.m.LoadInto(f.ctx, id, key, &dst), session.ErrNotFound)
	_, err = session.Get[string](f.ctx, f.m, id, key)
	f.wantErr("Get[string]"+where, err, session.ErrNotFound)
	_, err = session.Get[profile](f.ctx, f.m, id, key)
	f.wantErr("Get[profile]"+where, err, session.ErrNotFound)
	h := f.m.Session(id)
	_, err = h.Load(f.ctx, key)
	f.wantErr("handle Load"+where, err, session.ErrNotFound)
	f.wantErr("handle LoadInto"+where, h.LoadInto(f.ctx, key, &dst), session.ErrNotFound)
	_, err = session.HandleGet[int](f.ctx, h, key)
	f.wantErr("HandleGet[int]"+where, err, session.ErrNotFound)
	ok, err := f.m.Exists(f.ctx, id, key)
	f.must("Exists"+where, err)
	if ok {
		f.t.Errorf("Exists%s = true, want false", where)
	}
}

// wantPropNotFound checks every single-value prop read of key in id.
func (f *fixture) wantPropNotFound(id, key string) {
	f.t.Helper()
	where := fmt.Sprintf("(%q, %q)", id, key)
	_, err := f.m.LoadProp(f.ctx, id, key)
	f.wantErr("LoadProp"+where, err, session.ErrNotFound)
	var dst map[string]any
	f.wantErr("LoadPropInto"+where, f.m.LoadPropInto(f.ctx, id, key, &dst), session.ErrNotFound)
	_, err = session.GetProp[string](f.ctx, f.m, id, key)
	f.wantErr("GetProp[string]"+where, err, session.ErrNotFound)
	h := f.m.Session(id)
	_, err = h.LoadProp(f.ctx, key)
	f.wantErr("handle LoadProp"+where, err, session.ErrNotFound)
	f.wantErr("handle LoadPropInto"+where, h.LoadPropInto(f.ctx, key, &dst), session.ErrNotFound)
	_, err = session.HandleGetProp[bool](f.ctx, h, key)
	f.wantErr("HandleGetProp[bool]"+where, err, session.ErrNotFound)
}

// wantGlobalNotFound checks every single-value read of global key.
func (f *fixture) wantGlobalNotFound(key string) {
	f.t.Helper()
	_, err := f.m.LoadGlobal(f.ctx, key)
	f.wantErr(fmt.Sprintf("LoadGlobal(%q)", key), err, session.ErrNotFound)
	var dst []string
	f.wantErr(fmt.Sprintf("LoadGlobalInto(%q)", key), f.m.LoadGlobalInto(f.ctx, key, &dst), session.ErrNotFound)
	_, err = session.GetGlobal[int](f.ctx, f.m, key)
	f.wantErr(fmt.Sprintf("GetGlobal[int](%q)", key), err, session.ErrNotFound)
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
	existed, err := f.m.EvictProp(f.ctx, id, "name")
	f.must("EvictProp of a missing session", err)
	if existed {
		f.t.Error("EvictProp of a missing session reported true")
	}
	f.must("Clear of a missing session", f.m.Clear(f.ctx, id))
	f.must("Clear(retain) of a missing session", f.m.Clear(f.ctx, id, "stage", "name"))
	h := f.m.Session(id)
	f.must("handle Evict", h.Evict(f.ctx, "stage"))
	f.must("handle EvictAll", h.EvictAll(f.ctx, "stage"))
	f.must("handle Clear", h.Clear(f.ctx))
	existed, err = h.EvictProp(f.ctx, "name")
	f.must("handle EvictProp", err)
	if existed {
		f.t.Error("handle EvictProp of a missing session reported true")
	}
	existed, err = f.m.EvictGlobal(f.ctx, "nothing")
	f.must("EvictGlobal of a missing global", err)
	if existed {
		f.t.Error("EvictGlobal of a missing global reported true")
	}
	f.wantNoSession(id) // none of the removals created it
	f.wantGlobals(map[string]any{})

	// Missing keys and props of an existing session.
	f.save("somebody", "stage", "menu")
	f.saveProp("somebody", "name", "Ada")
	f.must("Evict of a missing key", f.m.Evict(f.ctx, "somebody", "other"))
	existed, err = f.m.EvictProp(f.ctx, "somebody", "other")
	f.must("EvictProp of a missing prop", err)
	if existed {
		f.t.Error("EvictProp of a missing prop reported true")
	}
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
