package sessiontest

import (
	"fmt"
	"strings"
)

// nameRules: session ids and keys are opaque byte strings. Unicode,
// separators, glob characters, path pieces, whitespace, case and prefixes
// never make two names collide or one name match another.
func nameRules() []rule {
	return []rule{
		{"OddIDs", namesOddIDs},
		{"OddKeys", namesOddKeys},
		{"CaseSensitive", namesCase},
		{"PrefixIDs", namesPrefix},
		{"GlobIDs", namesGlob},
	}
}

// oddNames are ids and keys that broke or could break a backend.
func oddNames() []string {
	return []string{
		"用户-ñ-👋",
		strings.Repeat("long-", 4096/5) + "end",
		"a:b", "a::b", ":", "*", "?", "[", "[a-z]", "a/b", "/", `a\b`, `\`, "..", "../..", "./x",
		"with space", " ", "line\nbreak", "\r\n", "tab\t", "nul\x00byte", "\xff\xfe not utf-8",
		"{hashtag}", "%s %d", `"quoted"`, "'", "$1", "#", "global", "0", "-1",
	}
}

func namesOddIDs(f *fixture) {
	ids := oddNames()
	for i, id := range ids {
		f.save(id, "stage", i)
		f.saveProp(id, "owner", fmt.Sprint("owner ", i)) // not id: JSON values are UTF-8
	}
	check := func(from int) {
		f.t.Helper()
		for i := from; i < len(ids); i++ {
			id := ids[i]
			if err := f.dataIs(id, map[string]any{"stage": float64(i)}); err != nil {
				f.t.Errorf("session #%d: %v", i, err)
			}
			if err := f.propsAre(id, map[string]any{"owner": fmt.Sprint("owner ", i)}); err != nil {
				f.t.Errorf("session #%d: %v", i, err)
			}
		}
	}
	check(0)
	for i, id := range ids {
		ttl, err := f.m.TTL(f.ctx, id)
		if err != nil || ttl <= 0 {
			f.t.Errorf("TTL(session #%d %q) = %v, %v", i, short(id), ttl, err)
		}
		if got := f.m.Session(id).ID(); got != id {
			f.t.Errorf("Session(#%d).ID() = %q, want %q", i, short(got), short(id))
		}
	}
	// Clearing each in turn leaves the others whole.
	for i, id := range ids {
		f.must(fmt.Sprintf("Clear(session #%d)", i), f.m.Clear(f.ctx, id))
		f.wantNoSession(id)
		check(i + 1)
	}
}

func namesOddKeys(f *fixture) {
	const id = "263771234567"
	keys := oddNames()
	data, props, globals := map[string]any{}, map[string]any{}, map[string]any{}
	for i, k := range keys {
		f.save(id, k, i)
		f.saveProp(id, k, -i)
		f.saveGlobal(k, fmt.Sprint(i))
		data[k], props[k], globals[k] = float64(i), float64(-i), fmt.Sprint(i)
	}
	f.wantData(id, data)
	f.wantProps(id, props)
	f.wantGlobals(globals)
	for i, k := range keys {
		f.wantLoad(id, k, float64(i))
		ok, err := f.m.Exists(f.ctx, id, k)
		if err != nil || !ok {
			f.t.Errorf("Exists(key #%d %q) = %v, %v", i, short(k), ok, err)
		}
	}
	// Retain a few odd keys exactly.
	retain := []string{"*", "a:b", "[a-z]", "nul\x00byte", "用户-ñ-👋"}
	f.must("Clear(retain odd keys)", f.m.Clear(f.ctx, id, retain...))
	want := map[string]any{}
	for _, k := range retain {
		want[k] = data[k]
	}
	f.wantData(id, want)
	f.wantProps(id, props)
	// Evict them one at a time.
	for i, k := range retain {
		f.must("Evict", f.m.Evict(f.ctx, id, k))
		delete(want, k)
		if err := f.dataIs(id, want); err != nil {
			f.t.Errorf("after Evict(retained key #%d): %v", i, err)
		}
	}
	for i, k := range keys {
		existed, err := f.m.EvictProp(f.ctx, id, k)
		if err != nil || !existed {
			f.t.Errorf("EvictProp(key #%d %q) = %v, %v; want true", i, short(k), existed, err)
		}
		existed, err = f.m.EvictGlobal(f.ctx, k)
		if err != nil || !existed {
			f.t.Errorf("EvictGlobal(key #%d %q) = %v, %v; want true", i, short(k), existed, err)
		}
	}
	f.wantProps(id, map[string]any{})
	f.wantGlobals(map[string]any{})
}

func namesCase(f *fixture) {
	ids := []string{"User", "user", "USER", "uSer"}
	for _, id := range ids {
		f.save(id, "Name", id+"-upper")
		f.save(id, "name", id+"-lower")
	}
	for _, id := range ids {
		f.wantData(id, map[string]any{"Name": id + "-upper", "name": id + "-lower"})
	}
	f.must("Clear(user)", f.m.Clear(f.ctx, "user"))
	f.must("Evict(User, name)", f.m.Evict(f.ctx, "User", "name"))
	f.wantNoSession("user")
	f.wantData("User", map[string]any{"Name": "User-upper"})
	f.wantData("USER", map[string]any{"Name": "USER-upper", "name": "USER-lower"})
	f.saveGlobal("Rate", 1)
	f.saveGlobal("rate", 2)
	f.wantGlobals(map[string]any{"Rate": 1.0, "rate": 2.0})
}

func namesPrefix(f *fixture) {
	ids := []string{"263771", "2637712", "26377", "2637711", "263771 ", " 263771", "263771:1", "1263771"}
	for _, id := range ids {
		f.save(id, "stage", id)
		f.save(id, "stage_prev", id)
		f.saveProp(id, "name", id)
	}
	for _, id := range ids {
		f.wantData(id, map[string]any{"stage": id, "stage_prev": id})
	}
	f.must("Clear(263771)", f.m.Clear(f.ctx, "263771"))
	f.must(`Clear(2637712, retain "stage")`, f.m.Clear(f.ctx, "2637712", "stage"))
	f.must("EvictAll(26377, stage)", f.m.EvictAll(f.ctx, "26377", "stage"))
	f.wantNoSession("263771")
	f.wantData("2637712", map[string]any{"stage": "2637712"})
	f.wantData("26377", map[string]any{"stage_prev": "26377"})
	for _, id := range ids[3:] {
		f.wantData(id, map[string]any{"stage": id, "stage_prev": id})
		f.wantProps(id, map[string]any{"name": id})
	}
}

// namesGlob: ids that look like Redis glob patterns are names, never
// patterns (a store that implements Clear with KEYS/SCAN MATCH would wipe
// other sessions).
func namesGlob(f *fixture) {
	plain := []string{"user1", "user2", "userX", "u"}
	globs := []string{"*", "user*", "user?", "user[12]", "u*r*", "[^a]*", "\\*"}
	for _, id := range append(append([]string{}, plain...), globs...) {
		f.save(id, "stage", id)
	}
	for _, g := range globs {
		f.must("Clear("+g+")", f.m.Clear(f.ctx, g))
		f.wantNoSession(g)
	}
	for _, id := range plain {
		f.wantData(id, map[string]any{"stage": id})
	}
}
