package sessiontest

import "github.com/sessiongrid/sessiongrid/session"

// valueRules: mutating a value after Save, or a value a read returned,
// never changes what is stored.
func valueRules() []rule {
	return []rule{
		{"MutateAfterSave", valueMutateAfterSave},
		{"MutateAfterSaveAll", valueMutateAfterSaveAll},
		{"MutateLoadResult", valueMutateLoad},
		{"MutateCollections", valueMutateCollections},
		{"MutatePropsAndGlobals", valueMutatePropsGlobals},
	}
}

const valueID = "263771234567"

func valueMutateAfterSave(f *fixture) {
	m := map[string]any{"a": 1, "list": []any{"x"}}
	s := []string{"m1", "m2"}
	p := sampleProfile()
	f.save(valueID, "map", m)
	f.save(valueID, "slice", s)
	f.save(valueID, "profile", &p)
	m["a"] = 2
	m["b"] = 3
	m["list"].([]any)[0] = "changed" // the suite's own value
	s[0] = "changed"
	p.Tags[0] = "changed"
	p.Meta["lang"] = "changed"
	p.Address.City = "changed"
	p.Name = "changed"
	f.wantLoad(valueID, "map", map[string]any{"a": 1.0, "list": []any{"x"}})
	f.wantLoad(valueID, "slice", []any{"m1", "m2"})
	got, err := session.Get[profile](f.ctx, f.m, valueID, "profile")
	f.must("Get[profile]", err)
	f.wantEqual("Get[profile] after mutating the saved value", got, sampleProfile())
}

func valueMutateAfterSaveAll(f *fixture) {
	inner := []int{1, 2}
	vals := map[string]any{"a": inner, "b": "x"}
	f.saveAll(valueID, vals)
	inner[0] = 100
	vals["b"] = "changed"
	vals["c"] = "added"
	delete(vals, "a")
	f.wantData(valueID, map[string]any{"a": []any{1.0, 2.0}, "b": "x"})
}

func valueMutateLoad(f *fixture) {
	f.save(valueID, "map", map[string]any{"a": 1, "nested": map[string]any{"b": 2}})
	f.save(valueID, "slice", []int{1, 2, 3})

	mv := f.asMap("Load(map)", f.load(valueID, "map"))
	mv["a"] = "changed"
	mv["new"] = true
	f.asMap("Load(map)[nested]", mv["nested"])["b"] = "changed"
	f.wantLoad(valueID, "map", map[string]any{"a": 1.0, "nested": map[string]any{"b": 2.0}})

	f.asSlice("Load(slice)", f.load(valueID, "slice"), 3)[0] = "changed"
	f.wantLoad(valueID, "slice", []any{1.0, 2.0, 3.0})

	typed, err := session.Get[[]int](f.ctx, f.m, valueID, "slice")
	f.must("Get[[]int]", err)
	typed[1] = 100
	var into map[string]any
	f.must("LoadInto(map)", f.m.LoadInto(f.ctx, valueID, "map", &into))
	into["a"] = "changed"
	f.asMap("LoadInto(map)[nested]", into["nested"])["b"] = "changed"
	f.wantLoad(valueID, "map", map[string]any{"a": 1.0, "nested": map[string]any{"b": 2.0}})
	typed2, err := session.Get[[]int](f.ctx, f.m, valueID, "slice")
	f.must("Get[[]int]", err)
	f.wantEqual("Get[[]int] after mutating an earlier result", typed2, []int{1, 2, 3})
}

func valueMutateCollections(f *fixture) {
	f.saveAll(valueID, map[string]any{"a": []int{1}, "b": map[string]int{"x": 1}})
	all, err := f.m.FetchAll(f.ctx, valueID)
	f.must("FetchAll", err)
	f.asSlice("FetchAll()[a]", all["a"], 1)[0] = "changed"
	f.asMap("FetchAll()[b]", all["b"])["x"] = "changed"
	all["c"] = "added"
	delete(all, "b")
	f.wantData(valueID, map[string]any{"a": []any{1.0}, "b": map[string]any{"x": 1.0}})
	f.wantKeyNotFound(valueID, "c")
}

func valueMutatePropsGlobals(f *fixture) {
	prop := map[string]any{"city": "Harare"}
	f.saveProp(valueID, "address", prop)
	prop["city"] = "changed"
	props, err := f.m.Props(f.ctx, valueID)
	f.must("Props", err)
	f.asMap("Props()[address]", props["address"])["city"] = "changed again"
	props["new"] = 1
	lp, err := f.m.LoadProp(f.ctx, valueID, "address")
	f.must("LoadProp", err)
	f.asMap("LoadProp(address)", lp)["city"] = "changed a third time"
	f.wantProps(valueID, map[string]any{"address": map[string]any{"city": "Harare"}})

	g := []string{"USD", "ZWG"}
	f.saveGlobal("currencies", g)
	g[0] = "changed"
	globals, err := f.m.Globals(f.ctx)
	f.must("Globals", err)
	f.asSlice("Globals()[currencies]", globals["currencies"], 2)[1] = "changed"
	globals["new"] = 1
	lg, err := f.m.LoadGlobal(f.ctx, "currencies")
	f.must("LoadGlobal", err)
	f.asSlice("LoadGlobal(currencies)", lg, 2)[0] = "changed"
	f.wantGlobals(map[string]any{"currencies": []any{"USD", "ZWG"}})
}
