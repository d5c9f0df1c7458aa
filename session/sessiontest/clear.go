package sessiontest

import (
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// clearRules: Clear(id) removes the whole session, data and props;
// Clear(id, retain...) keeps exactly the named data keys and the props.
func clearRules() []rule {
	return []rule{
		{"RemovesDataAndProps", clearAll},
		{"RetainExactNames", clearRetainExact},
		{"RetainKeepsProps", clearRetainKeepsProps},
		{"RetainMissingKeys", clearRetainMissing},
		{"RetainLargeSession", clearRetainLarge},
		{"ThenReuse", clearThenReuse},
		{"OtherSessionsUntouched", clearIsolation},
	}
}

const clearID = "263771234567"

func clearAll(f *fixture) {
	f.saveAll(clearID, map[string]any{"stage": "menu", "auth": "token"})
	f.saveProp(clearID, "name", "Ada")
	f.saveProp(clearID, "city", "Harare")
	f.must("Clear", f.m.Clear(f.ctx, clearID))
	f.wantNoSession(clearID)
	f.wantKeyNotFound(clearID, "stage")
	f.wantPropNotFound(clearID, "name")
	f.wantPropNotFound(clearID, "city")

	// Through a handle, and for a props-only session.
	f.saveProp("props-only", "name", "Ada")
	f.must("handle Clear", f.m.Session("props-only").Clear(f.ctx))
	f.wantNoSession("props-only")
	f.wantPropNotFound("props-only", "name")
}

func clearRetainExact(f *fixture) {
	all := map[string]any{
		"stage": 1, "stage_prev": 2, "prev_stage": 3, "stages": 4, "Stage": 5, "stage ": 6, " stage": 7,
		"a": 8, "ab": 9, "ba": 10, "A": 11, "aa": 12,
		"st*": 13, "sta?e": 14, "[a]": 15,
	}
	f.saveAll(clearID, all)
	f.must(`Clear(retain "stage", "a")`, f.m.Clear(f.ctx, clearID, "stage", "a"))
	f.wantData(clearID, map[string]any{"stage": 1.0, "a": 8.0})

	// Pattern-looking retain names are names, not patterns.
	f.saveAll("patterns", map[string]any{"st*": 1, "stage": 2, "sta?e": 3, "[a]": 4, "a": 5})
	f.must(`Clear(retain "st*", "[a]")`, f.m.Clear(f.ctx, "patterns", "st*", "[a]"))
	f.wantData("patterns", map[string]any{"st*": 1.0, "[a]": 4.0})

	// Through a handle.
	f.saveAll("handle", map[string]any{"a": 1, "ab": 2, "b": 3})
	f.must(`handle Clear(retain "a", "b")`, f.m.Session("handle").Clear(f.ctx, "a", "b"))
	f.wantData("handle", map[string]any{"a": 1.0, "b": 3.0})
}

func clearRetainKeepsProps(f *fixture) {
	f.saveAll(clearID, map[string]any{"stage": "menu", "auth": "token", "name": "data"})
	f.saveProp(clearID, "name", "Ada")
	f.saveProp(clearID, "age", 36)
	f.must(`Clear(retain "stage")`, f.m.Clear(f.ctx, clearID, "stage"))
	f.wantData(clearID, map[string]any{"stage": "menu"})
	f.wantProps(clearID, map[string]any{"name": "Ada", "age": 36.0})

	// Retaining nothing that exists leaves no data but keeps the props and
	// the session.
	f.must(`Clear(retain "nothing")`, f.m.Clear(f.ctx, clearID, "nothing"))
	f.wantData(clearID, map[string]any{})
	f.wantProps(clearID, map[string]any{"name": "Ada", "age": 36.0})
	f.wantSession(clearID)
	v, err := session.GetProp[int](f.ctx, f.m, clearID, "age")
	f.must("GetProp[int](age)", err)
	f.wantEqual("GetProp[int](age)", v, 36)
}

func clearRetainMissing(f *fixture) {
	f.saveAll(clearID, map[string]any{"a": 1, "b": 2})
	f.must(`Clear(retain "a", "zz")`, f.m.Clear(f.ctx, clearID, "a", "zz"))
	f.wantData(clearID, map[string]any{"a": 1.0})
	f.wantKeyNotFound(clearID, "zz")
	// Retaining on a missing session creates nothing.
	f.must("Clear(retain) of a missing session", f.m.Clear(f.ctx, "nobody", "a"))
	f.wantNoSession("nobody")
}

func clearThenReuse(f *fixture) {
	f.saveAll(clearID, map[string]any{"stage": "menu", "auth": "token"})
	f.saveProp(clearID, "name", "Ada")
	f.must("Clear", f.m.Clear(f.ctx, clearID))
	f.save(clearID, "stage", "start")
	f.wantData(clearID, map[string]any{"stage": "start"})
	f.wantProps(clearID, map[string]any{})
	f.must("Clear", f.m.Clear(f.ctx, clearID))
	f.saveProp(clearID, "city", "Bulawayo")
	f.wantData(clearID, map[string]any{})
	f.wantProps(clearID, map[string]any{"city": "Bulawayo"})
}

func clearIsolation(f *fixture) {
	ids := []string{clearID, clearID + "8", clearID[:len(clearID)-1], "other"}
	for _, id := range ids {
		f.save(id, "stage", id)
		f.saveProp(id, "name", id)
	}
	f.saveGlobal("stage", "global")
	f.must("Clear", f.m.Clear(f.ctx, clearID))
	f.wantNoSession(clearID)
	for _, id := range ids[1:] {
		f.wantData(id, map[string]any{"stage": id})
		f.wantProps(id, map[string]any{"name": id})
	}
	f.wantGlobals(map[string]any{"stage": "global"})
}

// clearRetainLarge: retain names exactly on sessions of more than 128
// fields (where a store may switch to another layout, as the memory store
// does), whose names share prefixes both ways: f1 is a prefix of f10..f19
// and f100..f199, and f12 of f123. Clearing down to a small session and
// to one still over 128 fields both keep exactly the named keys.
func clearRetainLarge(f *fixture) {
	const n = 200
	all := make(map[string]any, n)
	for i := range n {
		all[fmt.Sprint("f", i)] = i
	}
	f.saveAll(clearID, all)
	f.saveProp(clearID, "name", "Ada")
	f.must(`Clear(retain "f1", "f123", "f2000")`, f.m.Clear(f.ctx, clearID, "f1", "f123", "f2000"))
	f.wantData(clearID, map[string]any{"f1": 1.0, "f123": 123.0})
	f.wantProps(clearID, map[string]any{"name": "Ada"})

	// Still large afterwards: keep 150 names, not f15 nor f12.
	f.saveAll("large", all)
	var keep []string
	want := map[string]any{}
	for i := range n {
		if k := fmt.Sprint("f", i); i != 15 && i != 12 && len(keep) < 150 {
			keep = append(keep, k)
			want[k] = float64(i)
		}
	}
	f.must("Clear(retain 150 of 200)", f.m.Clear(f.ctx, "large", keep...))
	f.wantData("large", want)
}
