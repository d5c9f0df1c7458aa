package sessiontest

import "github.com/sessiongrid/sessiongrid/session"

// evictRules: Evict removes the key and only the key, for good.
func evictRules() []rule {
	return []rule{
		{"RemovesKeyForGood", evictForGood},
		{"LastKeyRemovesSession", evictLastKey},
		{"LeavesProps", evictLeavesProps},
	}
}

func evictForGood(f *fixture) {
	const id = "263771234567"
	f.saveAll(id, map[string]any{"stage": "menu", "prev_stage": "start", "auth": map[string]any{"ok": true}})
	f.must("Evict(stage)", f.m.Evict(f.ctx, id, "stage"))
	f.wantKeyNotFound(id, "stage")
	f.wantData(id, map[string]any{"prev_stage": "start", "auth": map[string]any{"ok": true}})
	f.must("Evict(stage) again", f.m.Evict(f.ctx, id, "stage"))
	f.wantKeyNotFound(id, "stage")
	f.wantData(id, map[string]any{"prev_stage": "start", "auth": map[string]any{"ok": true}})
	f.must("handle Evict(auth)", f.m.Session(id).Evict(f.ctx, "auth"))
	f.wantKeyNotFound(id, "auth")
	f.wantData(id, map[string]any{"prev_stage": "start"})

	// A key saved again after an evict holds the new value only.
	f.save(id, "stage", "new")
	f.wantLoad(id, "stage", "new")
}

// evictLastKey: a session left with no data and no props is removed.
func evictLastKey(f *fixture) {
	f.save("one-key", "stage", "menu")
	f.must("Evict(stage)", f.m.Evict(f.ctx, "one-key", "stage"))
	f.wantNoSession("one-key")

	f.saveAll("two-keys", map[string]any{"a": 1, "b": 2})
	f.must("EvictAll(a, b)", f.m.EvictAll(f.ctx, "two-keys", "a", "b"))
	f.wantNoSession("two-keys")

	// With a prop left, the session stays.
	f.save("with-prop", "stage", "menu")
	f.saveProp("with-prop", "name", "Ada")
	f.must("Evict(stage)", f.m.Evict(f.ctx, "with-prop", "stage"))
	f.wantSession("with-prop")
	f.wantData("with-prop", map[string]any{})
	f.wantProps("with-prop", map[string]any{"name": "Ada"})
}

func evictLeavesProps(f *fixture) {
	const id = "263771234567"
	f.save(id, "name", "data")
	f.saveProp(id, "name", "prop")
	f.must("Evict(name)", f.m.Evict(f.ctx, id, "name"))
	f.wantKeyNotFound(id, "name")
	v, err := f.m.LoadProp(f.ctx, id, "name")
	f.must("LoadProp(name) after Evict(name)", err)
	f.wantEqual("LoadProp(name) after Evict(name)", v, "prop")
	_, err = f.m.TTL(f.ctx, id)
	if err != nil {
		f.t.Errorf("TTL after evicting the data key of a session with props: %v", err)
	}
	// And the reverse: EvictProp leaves the data key of the same name.
	f.save(id, "name", "data")
	f.wantBool("EvictProp(name)", true)(f.m.EvictProp(f.ctx, id, "name"))
	f.wantLoad(id, "name", "data")
	_, err = f.m.LoadProp(f.ctx, id, "name")
	f.wantErr("LoadProp after EvictProp", err, session.ErrNotFound)
}
