package sessiontest

import (
	"math"

	"github.com/sessiongrid/sessiongrid/session"
)

// codecRules: a value that cannot be encoded, or decoded into the type
// asked for, fails with ErrCodec and changes nothing.
func codecRules() []rule {
	return []rule{
		{"DecodeIntoWrongType", codecDecode},
		{"UnencodableValue", codecEncode},
	}
}

func codecDecode(f *fixture) {
	const id = "263771234567"
	f.save(id, "name", "Ada")
	f.save(id, "list", []int{1, 2})
	f.saveProp(id, "name", "Ada")
	f.saveGlobal("name", "Ada")
	ctx, m, h := f.ctx, f.m, f.m.Session(id)
	f.wantAll(session.ErrCodec, []call{
		{"LoadInto(string into *int)", func() error { var n int; return m.LoadInto(ctx, id, "name", &n) }},
		{"LoadInto(string into *profile)", func() error { var p profile; return m.LoadInto(ctx, id, "name", &p) }},
		{"LoadInto(list into *map)", func() error { var mm map[string]any; return m.LoadInto(ctx, id, "list", &mm) }},
		{"Get[int]", func() error { return errOf(session.Get[int](ctx, m, id, "name")) }},
		{"Get[[]string] of []int", func() error { return errOf(session.Get[[]string](ctx, m, id, "list")) }},
		{"HandleGet[bool]", func() error { return errOf(session.HandleGet[bool](ctx, h, "name")) }},
		{"handle LoadInto", func() error { var n float64; return h.LoadInto(ctx, "name", &n) }},
		{"LoadPropInto", func() error { var n int; return m.LoadPropInto(ctx, id, "name", &n) }},
		{"GetProp[int]", func() error { return errOf(session.GetProp[int](ctx, m, id, "name")) }},
		{"HandleGetProp[[]int]", func() error { return errOf(session.HandleGetProp[[]int](ctx, h, "name")) }},
		{"LoadGlobalInto", func() error { var n int; return m.LoadGlobalInto(ctx, "name", &n) }},
		{"GetGlobal[int]", func() error { return errOf(session.GetGlobal[int](ctx, m, "name")) }},
	})
	// The stored values are untouched by failed decodes.
	f.wantData(id, map[string]any{"name": "Ada", "list": []any{1.0, 2.0}})
	f.wantProps(id, map[string]any{"name": "Ada"})
	f.wantGlobals(map[string]any{"name": "Ada"})
	// A missing key is ErrNotFound, whatever the type asked for.
	_, err := session.Get[chan int](ctx, m, id, "missing")
	f.wantErr("Get of a missing key", err, session.ErrNotFound)
}

func codecEncode(f *fixture) {
	const id = "263771234567"
	f.save(id, "k", "before")
	f.saveProp(id, "p", "before")
	f.saveGlobal("g", "before")
	ctx, m, h := f.ctx, f.m, f.m.Session(id)
	ch := make(chan int)
	fn := func() {}
	f.wantAll(session.ErrCodec, []call{
		{"Save(chan)", func() error { return m.Save(ctx, id, "k", ch) }},
		{"Save(func)", func() error { return m.Save(ctx, id, "k", fn) }},
		{"Save(NaN)", func() error { return m.Save(ctx, id, "k", math.NaN()) }},
		{"Save(complex)", func() error { return m.Save(ctx, id, "k", complex(1, 2)) }},
		{"Save(map with a chan)", func() error { return m.Save(ctx, id, "k", map[string]any{"ok": 1, "bad": ch}) }},
		{"Save(new key)", func() error { return m.Save(ctx, id, "new", ch) }},
		{"SaveAll", func() error { return m.SaveAll(ctx, id, map[string]any{"k": "after", "fine": 1, "bad": fn}) }},
		{"SaveProp", func() error { return m.SaveProp(ctx, id, "p", ch) }},
		{"SaveGlobal", func() error { return m.SaveGlobal(ctx, "g", fn) }},
		{"handle Save", func() error { return h.Save(ctx, "k", ch) }},
		{"handle SaveAll", func() error { return h.SaveAll(ctx, map[string]any{"bad": ch}) }},
		{"handle SaveProp", func() error { return h.SaveProp(ctx, "p", fn) }},
		{"Save(chan) in a new session", func() error { return m.Save(ctx, "new-session", "k", ch) }},
	})
	f.wantData(id, map[string]any{"k": "before"})
	f.wantProps(id, map[string]any{"p": "before"})
	f.wantGlobals(map[string]any{"g": "before"})
	f.wantNoSession("new-session")
}
