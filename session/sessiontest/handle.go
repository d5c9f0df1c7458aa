package sessiontest

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/sessiongrid/sessiongrid/session"
)

// handleRules: Manager.Session(id) returns a handle that behaves the same
// however many times it is asked for, and every handle operation is the
// manager operation with the handle's id.
func handleRules() []rule {
	return []rule{
		{"SameBehaviourEveryCall", handleSameEveryCall},
		{"MatchesManager", handleMatchesManager},
		{"DistinctIDs", handleDistinctIDs},
	}
}

func handleSameEveryCall(f *fixture) {
	const id = "263771234567"
	h1, h2 := f.m.Session(id), f.m.Session(id)
	for i, h := range []session.Handle{h1, h2} {
		if h.ID() != id {
			f.t.Errorf("Session(%q) handle %d: ID() = %q", id, i, h.ID())
		}
		if h.Manager() == nil {
			f.t.Fatalf("Session(%q) handle %d: Manager() is nil", id, i)
		}
	}
	f.must("h1.Save", h1.Save(f.ctx, "stage", "menu"))
	f.must("m.Save", f.m.Save(f.ctx, id, "count", 3))
	f.must("h2.SaveProp", h2.SaveProp(f.ctx, "name", "Ada"))

	// Ask for a new handle on every read: all see the same session.
	for i := range 50 {
		h := f.m.Session(id)
		v, err := h.Load(f.ctx, "stage")
		f.must("Session(id).Load", err)
		if v != "menu" {
			f.t.Fatalf("handle #%d: Load(stage) = %s, want \"menu\"", i, show(v))
		}
	}
	for i, h := range []session.Handle{h1, h2, f.m.Session(id)} {
		got, err := h.FetchAll(f.ctx)
		if err := collection(fmt.Sprintf("handle %d FetchAll", i), got, err,
			map[string]any{"stage": "menu", "count": 3.0}); err != nil {
			f.t.Error(err)
		}
		props, err := h.Props(f.ctx)
		if err := collection(fmt.Sprintf("handle %d Props", i), props, err,
			map[string]any{"name": "Ada"}); err != nil {
			f.t.Error(err)
		}
		v, err := h.Manager().Load(f.ctx, id, "count")
		f.must("h.Manager().Load", err)
		f.wantEqual("h.Manager().Load(count)", v, 3.0)
	}

	// A clear through one handle is seen through the others.
	f.must("h2.Clear", h2.Clear(f.ctx))
	got, err := h1.FetchAll(f.ctx)
	if err := collection("h1.FetchAll after h2.Clear", got, err, map[string]any{}); err != nil {
		f.t.Error(err)
	}
	f.wantNoSession(id)
}

// handleMatchesManager drives two sessions with the same operations, one
// through a handle and one through the manager with the id, and compares
// every result.
func handleMatchesManager(f *fixture) {
	const viaH, viaM = "via-handle", "via-manager"
	h := f.m.Session(viaH)
	m := f.m
	ctx := f.ctx
	same := func(op string, gotH any, errH error, gotM any, errM error) {
		f.t.Helper()
		if !reflect.DeepEqual(gotH, gotM) || !sameErr(errH, errM) {
			f.t.Errorf("%s: handle gave (%s, %v), manager gave (%s, %v)", op, show(gotH), errH, show(gotM), errM)
		}
	}
	sameE := func(op string, errH, errM error) {
		f.t.Helper()
		same(op, nil, errH, nil, errM)
	}
	p := sampleProfile()

	sameE("Save", h.Save(ctx, "profile", p), m.Save(ctx, viaM, "profile", p))
	vals := map[string]any{"stage": "ask-name", "retries": 2, "ids": []string{"wamid.1", "wamid.2"}}
	sameE("SaveAll", h.SaveAll(ctx, vals), m.SaveAll(ctx, viaM, vals))

	vh, eh := h.Load(ctx, "stage")
	vm, em := m.Load(ctx, viaM, "stage")
	same("Load", vh, eh, vm, em)
	f.wantEqual("Load(stage)", vh, "ask-name")
	vh, eh = h.Load(ctx, "nope")
	vm, em = m.Load(ctx, viaM, "nope")
	same("Load(missing)", vh, eh, vm, em)
	f.wantErr("handle Load(missing)", eh, session.ErrNotFound)

	var ph, pm profile
	sameE("LoadInto", h.LoadInto(ctx, "profile", &ph), m.LoadInto(ctx, viaM, "profile", &pm))
	f.wantEqual("handle LoadInto(profile)", ph, p)
	f.wantEqual("manager LoadInto(profile)", pm, p)

	gh, eh := session.HandleGet[profile](ctx, h, "profile")
	gm, em := session.Get[profile](ctx, m, viaM, "profile")
	same("HandleGet/Get", gh, eh, gm, em)
	f.wantEqual("HandleGet[profile]", gh, p)
	nh, eh := session.HandleGet[[]string](ctx, h, "ids")
	nm, em := session.Get[[]string](ctx, m, viaM, "ids")
	same("HandleGet/Get []string", nh, eh, nm, em)
	f.wantEqual("HandleGet[[]string]", nh, []string{"wamid.1", "wamid.2"})

	ah, eh := h.FetchAll(ctx)
	am, em := m.FetchAll(ctx, viaM)
	same("FetchAll", ah, eh, am, em)
	if len(ah) != 4 {
		f.t.Errorf("handle FetchAll: %d keys %s, want 4", len(ah), show(ah))
	}

	for _, k := range []string{"stage", "nope"} {
		xh, eh := h.Exists(ctx, k)
		xm, em := m.Exists(ctx, viaM, k)
		same("Exists("+k+")", xh, eh, xm, em)
		f.wantEqual("handle Exists("+k+")", xh, k == "stage")
	}

	sameE("Evict", h.Evict(ctx, "retries"), m.Evict(ctx, viaM, "retries"))
	sameE("EvictAll", h.EvictAll(ctx, "ids", "nope"), m.EvictAll(ctx, viaM, "ids", "nope"))
	ah, eh = h.FetchAll(ctx)
	am, em = m.FetchAll(ctx, viaM)
	same("FetchAll after evictions", ah, eh, am, em)
	if _, ok := ah["profile"].(map[string]any); !ok || len(ah) != 2 || ah["stage"] != "ask-name" {
		f.t.Errorf("handle FetchAll after Evict(retries), EvictAll(ids, nope): %s, want profile and stage", show(ah))
	}

	prop := map[string]any{"city": "Harare", "zip": 263}
	sameE("SaveProp", h.SaveProp(ctx, "address", prop), m.SaveProp(ctx, viaM, "address", prop))
	sameE("SaveProp", h.SaveProp(ctx, "age", 36), m.SaveProp(ctx, viaM, "age", 36))
	vh, eh = h.LoadProp(ctx, "address")
	vm, em = m.LoadProp(ctx, viaM, "address")
	same("LoadProp", vh, eh, vm, em)
	f.wantEqual("handle LoadProp(address)", vh, map[string]any{"city": "Harare", "zip": 263.0})
	var ih, im int
	sameE("LoadPropInto", h.LoadPropInto(ctx, "age", &ih), m.LoadPropInto(ctx, viaM, "age", &im))
	f.wantEqual("handle LoadPropInto(age)", ih, 36)
	gph, eh := session.HandleGetProp[map[string]any](ctx, h, "address")
	gpm, em := session.GetProp[map[string]any](ctx, m, viaM, "address")
	same("HandleGetProp/GetProp", gph, eh, gpm, em)
	_, eh = session.HandleGetProp[int](ctx, h, "nope")
	_, em = session.GetProp[int](ctx, m, viaM, "nope")
	sameE("HandleGetProp/GetProp missing", eh, em)
	f.wantErr("HandleGetProp(missing)", eh, session.ErrNotFound)
	ph2, eh := h.Props(ctx)
	pm2, em := m.Props(ctx, viaM)
	same("Props", ph2, eh, pm2, em)
	f.wantEqual("handle Props", ph2, map[string]any{"address": map[string]any{"city": "Harare", "zip": 263.0}, "age": 36.0})
	for range 2 {
		bh, eh := h.EvictProp(ctx, "age")
		bm, em := m.EvictProp(ctx, viaM, "age")
		same("EvictProp", bh, eh, bm, em)
	}

	e := session.Expiry{Idle: f.idle / 2}
	sameE("SetExpiry", h.SetExpiry(ctx, e), m.SetExpiry(ctx, viaM, e))
	th, eh := h.TTL(ctx)
	tm, em := m.TTL(ctx, viaM)
	f.must("handle TTL", eh)
	f.must("manager TTL", em)
	if th <= 0 || th > f.idle/2 || tm <= 0 || tm > f.idle/2 {
		f.t.Errorf("TTL after SetExpiry(Idle: %v): handle %v, manager %v", f.idle/2, th, tm)
	}

	sameE("Clear(retain)", h.Clear(ctx, "stage"), m.Clear(ctx, viaM, "stage"))
	ah, eh = h.FetchAll(ctx)
	am, em = m.FetchAll(ctx, viaM)
	same("FetchAll after Clear(retain)", ah, eh, am, em)
	f.wantEqual("handle FetchAll after Clear(stage)", ah, map[string]any{"stage": "ask-name"})
	sameE("Clear", h.Clear(ctx), m.Clear(ctx, viaM))
	_, eh = h.TTL(ctx)
	_, em = m.TTL(ctx, viaM)
	sameE("TTL after Clear", eh, em)
	f.wantErr("handle TTL after Clear", eh, session.ErrNotFound)
}

func handleDistinctIDs(f *fixture) {
	a, b := f.m.Session("alice"), f.m.Session("bob")
	f.must("alice.Save", a.Save(f.ctx, "stage", "a"))
	f.must("bob.Save", b.Save(f.ctx, "stage", "b"))
	f.must("alice.SaveProp", a.SaveProp(f.ctx, "p", 1))
	f.wantData("alice", map[string]any{"stage": "a"})
	f.wantData("bob", map[string]any{"stage": "b"})
	f.wantProps("bob", map[string]any{})
	f.must("bob.Clear", b.Clear(f.ctx))
	f.wantData("alice", map[string]any{"stage": "a"})
	f.wantProps("alice", map[string]any{"p": 1.0})
}

// sameErr reports whether two errors agree: both nil, or both matching the
// same sentinel of the contract.
func sameErr(a, b error) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	for _, s := range contractErrors() {
		if errors.Is(a, s) != errors.Is(b, s) {
			return false
		}
	}
	return true
}

// contractErrors lists the sentinel errors of the contract.
func contractErrors() []error {
	return []error{
		session.ErrNotFound, session.ErrInvalidID, session.ErrInvalidKey, session.ErrTooLarge,
		session.ErrWrongType, session.ErrClosed, session.ErrCodec, session.ErrUnavailable,
	}
}
