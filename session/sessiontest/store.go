package sessiontest

import (
	"bytes"
	"errors"

	"github.com/sessiongrid/sessiongrid/session"
)

// storeRules: the byte-level contract of the Store under the manager
// (Manager.Store): counts, copies of byte slices, validation.
func storeRules() []rule {
	return []rule{
		{"NotNil", storeNotNil},
		{"Counts", storeCounts},
		{"CopiesInputs", storeCopiesInputs},
		{"ReturnsOwnedSlices", storeOwnedOutputs},
		{"Validation", storeValidation},
	}
}

// store returns the manager's Store or stops the rule.
func (f *fixture) store() session.Store {
	f.t.Helper()
	s := f.m.Store()
	if s == nil {
		f.t.Fatal("Manager.Store() returned nil")
	}
	return s
}

func storeNotNil(f *fixture) {
	f.store()
}

func field(k, v string) session.Field { return session.Field{Key: k, Value: []byte(`"` + v + `"`)} }

func storeCounts(f *fixture) {
	s, ctx := f.store(), f.ctx
	const id = "263771234567"
	added, err := s.Save(ctx, id, field("a", "1"), field("b", "2"))
	f.must("Store.Save(a, b)", err)
	f.wantEqual("Store.Save(a, b) of a new session: added", added, 2)
	added, err = s.Save(ctx, id, field("a", "3"), field("c", "4"))
	f.must("Store.Save(a, c)", err)
	f.wantEqual("Store.Save(a, c) with a existing: added", added, 1)
	removed, err := s.Evict(ctx, id, "a", "missing")
	f.must("Store.Evict(a, missing)", err)
	f.wantEqual("Store.Evict(a, missing): removed", removed, 1)
	removed, err = s.Evict(ctx, "nobody", "a")
	f.must("Store.Evict of a missing session", err)
	f.wantEqual("Store.Evict of a missing session: removed", removed, 0)
	existed, err := s.Clear(ctx, id, "b")
	f.must("Store.Clear(retain b)", err)
	f.wantEqual("Store.Clear(retain) of an existing session: existed", existed, true)
	existed, err = s.Clear(ctx, id)
	f.must("Store.Clear", err)
	f.wantEqual("Store.Clear of an existing session: existed", existed, true)
	existed, err = s.Clear(ctx, id)
	f.must("Store.Clear again", err)
	f.wantEqual("Store.Clear of a missing session: existed", existed, false)
}

func storeCopiesInputs(f *fixture) {
	s, ctx := f.store(), f.ctx
	const id = "263771234567"
	buf := []byte(`"original"`)
	_, err := s.Save(ctx, id, session.Field{Key: "k", Value: buf})
	f.must("Store.Save", err)
	f.must("Store.SaveProp", s.SaveProp(ctx, id, "p", buf))
	f.must("Store.SaveGlobal", s.SaveGlobal(ctx, "g", buf))
	copy(buf, `"CHANGED!"`) // the caller reuses its buffer
	want := []byte(`"original"`)
	get := []struct {
		name string
		run  func() ([]byte, error)
	}{
		{"Store.Get", func() ([]byte, error) { return s.Get(ctx, id, "k") }},
		{"Store.GetProp", func() ([]byte, error) { return s.GetProp(ctx, id, "p") }},
		{"Store.GetGlobal", func() ([]byte, error) { return s.GetGlobal(ctx, "g") }},
	}
	for _, g := range get {
		got, err := g.run()
		f.must(g.name, err)
		if !bytes.Equal(got, want) {
			f.t.Errorf("%s after the caller changed the slice it saved: %q, want %q", g.name, got, want)
		}
	}
}

func storeOwnedOutputs(f *fixture) {
	s, ctx := f.store(), f.ctx
	const id = "263771234567"
	_, err := s.Save(ctx, id, field("k", "value"))
	f.must("Store.Save", err)
	f.must("Store.SaveProp", s.SaveProp(ctx, id, "p", []byte(`"value"`)))
	f.must("Store.SaveGlobal", s.SaveGlobal(ctx, "g", []byte(`"value"`)))
	scribble := func(b []byte) {
		for i := range b {
			b[i] = 'X'
		}
	}
	b, err := s.Get(ctx, id, "k")
	f.must("Store.Get", err)
	scribble(b)
	all, err := s.GetAll(ctx, id)
	f.must("Store.GetAll", err)
	for _, v := range all {
		scribble(v)
	}
	b, err = s.GetProp(ctx, id, "p")
	f.must("Store.GetProp", err)
	scribble(b)
	props, err := s.Props(ctx, id)
	f.must("Store.Props", err)
	for _, v := range props {
		scribble(v)
	}
	b, err = s.GetGlobal(ctx, "g")
	f.must("Store.GetGlobal", err)
	scribble(b)
	globals, err := s.Globals(ctx)
	f.must("Store.Globals", err)
	for _, v := range globals {
		scribble(v)
	}
	f.wantData(id, map[string]any{"k": "value"})
	f.wantProps(id, map[string]any{"p": "value"})
	f.wantGlobals(map[string]any{"g": "value"})
}

func storeValidation(f *fixture) {
	s, ctx := f.store(), f.ctx
	const id = "263771234567"
	v := []byte(`1`)
	f.wantAll(session.ErrInvalidID, []call{
		{"Store.Save", func() error { return errOf(s.Save(ctx, "", session.Field{Key: "k", Value: v})) }},
		{"Store.Get", func() error { return errOf(s.Get(ctx, "", "k")) }},
		{"Store.GetAll", func() error { return errOf(s.GetAll(ctx, "")) }},
		{"Store.Evict", func() error { return errOf(s.Evict(ctx, "", "k")) }},
		{"Store.Clear", func() error { return errOf(s.Clear(ctx, "")) }},
		{"Store.SaveProp", func() error { return s.SaveProp(ctx, "", "p", v) }},
		{"Store.Props", func() error { return errOf(s.Props(ctx, "")) }},
		{"Store.SetExpiry", func() error { return s.SetExpiry(ctx, "", session.Expiry{}) }},
		{"Store.TTL", func() error { return errOf(s.TTL(ctx, "")) }},
	})
	f.wantAll(session.ErrInvalidKey, []call{
		{"Store.Save", func() error {
			return errOf(s.Save(ctx, id, session.Field{Key: "ok", Value: v}, session.Field{Key: "", Value: v}))
		}},
		{"Store.Get", func() error { return errOf(s.Get(ctx, id, "")) }},
		{"Store.Exists", func() error { return errOf(s.Exists(ctx, id, "")) }},
		{"Store.Evict", func() error { return errOf(s.Evict(ctx, id, "")) }},
		{"Store.SaveProp", func() error { return s.SaveProp(ctx, id, "", v) }},
		{"Store.GetProp", func() error { return errOf(s.GetProp(ctx, id, "")) }},
		{"Store.EvictProp", func() error { return errOf(s.EvictProp(ctx, id, "")) }},
		{"Store.SaveGlobal", func() error { return s.SaveGlobal(ctx, "", v) }},
		{"Store.GetGlobal", func() error { return errOf(s.GetGlobal(ctx, "")) }},
		{"Store.EvictGlobal", func() error { return errOf(s.EvictGlobal(ctx, "")) }},
	})
	big := make([]byte, session.DefaultMaxValueSize+1)
	f.wantAll(session.ErrTooLarge, []call{
		{"Store.Save", func() error {
			return errOf(s.Save(ctx, id, session.Field{Key: "ok", Value: v}, session.Field{Key: "big", Value: big}))
		}},
		{"Store.SaveProp", func() error { return s.SaveProp(ctx, id, "big", big) }},
		{"Store.SaveGlobal", func() error { return s.SaveGlobal(ctx, "big", big) }},
	})
	f.wantNoSession(id) // nothing was written by the refused calls
	f.wantGlobals(map[string]any{})
	if _, err := s.Get(ctx, id, "ok"); !errors.Is(err, session.ErrNotFound) {
		f.t.Errorf("Store.Get(ok) after refused saves: %v, want ErrNotFound", err)
	}
}
