package sessiontest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/sessiongrid/sessiongrid/session"
)

// boundRules: invalid ids and keys are refused with ErrInvalidID and
// ErrInvalidKey, oversized values with ErrTooLarge, and nothing is written
// then; values and sessions of the sizes bots use work.
func boundRules() []rule {
	return []rule{
		{"EmptyID", boundEmptyID},
		{"EmptyKey", boundEmptyKey},
		{"OversizedIDAndKey", boundOversized},
		{"IDAndKeyAtLimit", boundAtLimit},
		{"ValueTooLarge", boundTooLarge},
		{"LargeValues", boundLargeValues},
		{"LargeSessions", boundLargeSessions},
	}
}

// call is one operation whose error a rule checks.
type call struct {
	name string
	run  func() error
}

// errOf drops the value of a call's result.
func errOf[T any](_ T, err error) error { return err }

// wantAll checks that every call fails with target.
func (f *fixture) wantAll(target error, calls []call) {
	f.t.Helper()
	for _, c := range calls {
		f.wantErr(c.name, c.run(), target)
	}
}

// idCalls lists every operation that takes a session id, on id.
func (f *fixture) idCalls(id string) []call {
	ctx, m, h := f.ctx, f.m, f.m.Session(id)
	var dst any
	return []call{
		{"Save", func() error { return m.Save(ctx, id, "k", 1) }},
		{"SaveAll", func() error { return m.SaveAll(ctx, id, map[string]any{"k": 1}) }},
		{"SaveAll(empty)", func() error { return m.SaveAll(ctx, id, nil) }},
		{"Load", func() error { return errOf(m.Load(ctx, id, "k")) }},
		{"LoadInto", func() error { return m.LoadInto(ctx, id, "k", &dst) }},
		{"FetchAll", func() error { return errOf(m.FetchAll(ctx, id)) }},
		{"Exists", func() error { return errOf(m.Exists(ctx, id, "k")) }},
		{"Evict", func() error { return m.Evict(ctx, id, "k") }},
		{"EvictAll", func() error { return m.EvictAll(ctx, id, "k", "j") }},
		{"EvictAll()", func() error { return m.EvictAll(ctx, id) }},
		{"Clear", func() error { return m.Clear(ctx, id) }},
		{"Clear(retain)", func() error { return m.Clear(ctx, id, "k") }},
		{"SaveProp", func() error { return m.SaveProp(ctx, id, "p", 1) }},
		{"LoadProp", func() error { return errOf(m.LoadProp(ctx, id, "p")) }},
		{"LoadPropInto", func() error { return m.LoadPropInto(ctx, id, "p", &dst) }},
		{"Props", func() error { return errOf(m.Props(ctx, id)) }},
		{"EvictProp", func() error { return errOf(m.EvictProp(ctx, id, "p")) }},
		{"SetExpiry", func() error { return m.SetExpiry(ctx, id, session.Expiry{Idle: f.idle}) }},
		{"TTL", func() error { return errOf(m.TTL(ctx, id)) }},
		{"Get", func() error { return errOf(session.Get[int](ctx, m, id, "k")) }},
		{"GetProp", func() error { return errOf(session.GetProp[int](ctx, m, id, "p")) }},
		{"handle Save", func() error { return h.Save(ctx, "k", 1) }},
		{"handle SaveAll", func() error { return h.SaveAll(ctx, map[string]any{"k": 1}) }},
		{"handle Load", func() error { return errOf(h.Load(ctx, "k")) }},
		{"handle LoadInto", func() error { return h.LoadInto(ctx, "k", &dst) }},
		{"handle FetchAll", func() error { return errOf(h.FetchAll(ctx)) }},
		{"handle Exists", func() error { return errOf(h.Exists(ctx, "k")) }},
		{"handle Evict", func() error { return h.Evict(ctx, "k") }},
		{"handle EvictAll", func() error { return h.EvictAll(ctx, "k") }},
		{"handle Clear", func() error { return h.Clear(ctx) }},
		{"handle SaveProp", func() error { return h.SaveProp(ctx, "p", 1) }},
		{"handle LoadProp", func() error { return errOf(h.LoadProp(ctx, "p")) }},
		{"handle LoadPropInto", func() error { return h.LoadPropInto(ctx, "p", &dst) }},
		{"handle Props", func() error { return errOf(h.Props(ctx)) }},
		{"handle EvictProp", func() error { return errOf(h.EvictProp(ctx, "p")) }},
		{"handle SetExpiry", func() error { return h.SetExpiry(ctx, session.Expiry{}) }},
		{"handle TTL", func() error { return errOf(h.TTL(ctx)) }},
		{"HandleGet", func() error { return errOf(session.HandleGet[int](ctx, h, "k")) }},
		{"HandleGetProp", func() error { return errOf(session.HandleGetProp[int](ctx, h, "p")) }},
	}
}

// keyCalls lists every operation that takes a data, prop or global key, on
// session id and key.
func (f *fixture) keyCalls(id, key string) []call {
	ctx, m, h := f.ctx, f.m, f.m.Session(id)
	var dst any
	return []call{
		{"Save", func() error { return m.Save(ctx, id, key, 1) }},
		{"SaveAll", func() error { return m.SaveAll(ctx, id, map[string]any{key: 1, "valid": 2}) }},
		{"Load", func() error { return errOf(m.Load(ctx, id, key)) }},
		{"LoadInto", func() error { return m.LoadInto(ctx, id, key, &dst) }},
		{"Exists", func() error { return errOf(m.Exists(ctx, id, key)) }},
		{"Evict", func() error { return m.Evict(ctx, id, key) }},
		{"EvictAll", func() error { return m.EvictAll(ctx, id, "stage", key) }},
		{"SaveProp", func() error { return m.SaveProp(ctx, id, key, 1) }},
		{"LoadProp", func() error { return errOf(m.LoadProp(ctx, id, key)) }},
		{"LoadPropInto", func() error { return m.LoadPropInto(ctx, id, key, &dst) }},
		{"EvictProp", func() error { return errOf(m.EvictProp(ctx, id, key)) }},
		{"SaveGlobal", func() error { return m.SaveGlobal(ctx, key, 1) }},
		{"LoadGlobal", func() error { return errOf(m.LoadGlobal(ctx, key)) }},
		{"LoadGlobalInto", func() error { return m.LoadGlobalInto(ctx, key, &dst) }},
		{"EvictGlobal", func() error { return errOf(m.EvictGlobal(ctx, key)) }},
		{"Get", func() error { return errOf(session.Get[int](ctx, m, id, key)) }},
		{"GetProp", func() error { return errOf(session.GetProp[int](ctx, m, id, key)) }},
		{"GetGlobal", func() error { return errOf(session.GetGlobal[int](ctx, m, key)) }},
		{"handle Save", func() error { return h.Save(ctx, key, 1) }},
		{"handle SaveAll", func() error { return h.SaveAll(ctx, map[string]any{key: 1}) }},
		{"handle Load", func() error { return errOf(h.Load(ctx, key)) }},
		{"handle Exists", func() error { return errOf(h.Exists(ctx, key)) }},
		{"handle Evict", func() error { return h.Evict(ctx, key) }},
		{"handle SaveProp", func() error { return h.SaveProp(ctx, key, 1) }},
		{"handle LoadProp", func() error { return errOf(h.LoadProp(ctx, key)) }},
		{"handle EvictProp", func() error { return errOf(h.EvictProp(ctx, key)) }},
		{"HandleGet", func() error { return errOf(session.HandleGet[int](ctx, h, key)) }},
		{"HandleGetProp", func() error { return errOf(session.HandleGetProp[int](ctx, h, key)) }},
	}
}

func boundEmptyID(f *fixture) {
	f.saveGlobal("g", 1)
	f.wantAll(session.ErrInvalidID, f.idCalls(""))
	f.wantGlobals(map[string]any{"g": 1.0})
}

func boundEmptyKey(f *fixture) {
	const id = "263771234567"
	f.save(id, "stage", "menu")
	f.saveProp(id, "name", "Ada")
	f.saveGlobal("g", 1)
	f.wantAll(session.ErrInvalidKey, f.keyCalls(id, ""))
	// Nothing was written, nothing removed, not even the valid parts.
	f.wantData(id, map[string]any{"stage": "menu"})
	f.wantProps(id, map[string]any{"name": "Ada"})
	f.wantGlobals(map[string]any{"g": 1.0})
	// The key is checked before the session is looked up.
	f.wantAll(session.ErrInvalidKey, f.keyCalls("nobody", ""))
	f.wantNoSession("nobody")
}

func boundOversized(f *fixture) {
	const id = "263771234567"
	f.save(id, "stage", "menu")
	longID := strings.Repeat("i", session.MaxIDLen+1)
	longKey := strings.Repeat("k", session.MaxKeyLen+1)
	ctx, m := f.ctx, f.m
	f.wantAll(session.ErrInvalidID, []call{
		{"Save", func() error { return m.Save(ctx, longID, "k", 1) }},
		{"Load", func() error { _, err := m.Load(ctx, longID, "k"); return err }},
		{"FetchAll", func() error { _, err := m.FetchAll(ctx, longID); return err }},
		{"SaveProp", func() error { return m.SaveProp(ctx, longID, "p", 1) }},
		{"Clear", func() error { return m.Clear(ctx, longID) }},
		{"TTL", func() error { _, err := m.TTL(ctx, longID); return err }},
	})
	f.wantAll(session.ErrInvalidKey, []call{
		{"Save", func() error { return m.Save(ctx, id, longKey, 1) }},
		{"SaveAll", func() error { return m.SaveAll(ctx, id, map[string]any{longKey: 1, "ok": 1}) }},
		{"Load", func() error { _, err := m.Load(ctx, id, longKey); return err }},
		{"SaveProp", func() error { return m.SaveProp(ctx, id, longKey, 1) }},
		{"SaveGlobal", func() error { return m.SaveGlobal(ctx, longKey, 1) }},
	})
	f.wantData(id, map[string]any{"stage": "menu"})
	f.wantProps(id, map[string]any{})
	f.wantGlobals(map[string]any{})
}

func boundAtLimit(f *fixture) {
	id := strings.Repeat("i", session.MaxIDLen)
	key := strings.Repeat("k", session.MaxKeyLen)
	f.save(id, key, "v")
	f.saveProp(id, key, "p")
	f.saveGlobal(key, "g")
	f.wantData(id, map[string]any{key: "v"})
	f.wantProps(id, map[string]any{key: "p"})
	f.wantGlobals(map[string]any{key: "g"})
	f.must("Clear", f.m.Clear(f.ctx, id))
	f.wantNoSession(id)
}

func boundTooLarge(f *fixture) {
	const id = "263771234567"
	big := strings.Repeat("x", session.DefaultMaxValueSize+(1<<20)) // 9 MiB
	f.save(id, "k", "small")
	f.saveProp(id, "p", "small")
	f.saveGlobal("g", "small")
	ctx, m := f.ctx, f.m
	f.wantAll(session.ErrTooLarge, []call{
		{"Save", func() error { return m.Save(ctx, id, "k", big) }},
		{"SaveAll", func() error { return m.SaveAll(ctx, id, map[string]any{"k": big, "other": 1}) }},
		{"SaveProp", func() error { return m.SaveProp(ctx, id, "p", big) }},
		{"SaveGlobal", func() error { return m.SaveGlobal(ctx, "g", big) }},
	})
	f.wantData(id, map[string]any{"k": "small"})
	f.wantProps(id, map[string]any{"p": "small"})
	f.wantGlobals(map[string]any{"g": "small"})
}

func boundLargeValues(f *fixture) {
	const id = "263771234567"
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		s := pattern(size)
		b := []byte(pattern(min(size/2, 32<<10))) // base64 in JSON: keep it small
		key := fmt.Sprintf("s%d", size)
		f.save(id, key, s)
		f.save(id, key+"-bytes", b)
		got, err := session.Get[string](f.ctx, f.m, id, key)
		f.must("Get[string]", err)
		if got != s {
			f.t.Errorf("Get[string](%s): %d bytes back, want the %d saved", key, len(got), len(s))
		}
		gb, err := session.Get[[]byte](f.ctx, f.m, id, key+"-bytes")
		f.must("Get[[]byte]", err)
		if string(gb) != string(b) {
			f.t.Errorf("Get[[]byte](%s): %d bytes back, want the %d saved", key, len(gb), len(b))
		}
		if size > 64<<10 {
			continue // props and globals: up to 64 KiB
		}
		f.saveProp(id, key, s)
		f.saveGlobal(key, s)
		gp, err := session.GetProp[string](f.ctx, f.m, id, key)
		f.must("GetProp[string]", err)
		if gp != s {
			f.t.Errorf("GetProp[string](%s): %d bytes back, want %d", key, len(gp), len(s))
		}
		gg, err := session.GetGlobal[string](f.ctx, f.m, key)
		f.must("GetGlobal[string]", err)
		if gg != s {
			f.t.Errorf("GetGlobal[string](%s): %d bytes back, want %d", key, len(gg), len(s))
		}
	}
	all, err := f.m.FetchAll(f.ctx, id)
	f.must("FetchAll", err)
	if mib := pattern(1 << 20); len(all) != 6 || all["s1048576"] != mib {
		f.t.Errorf("FetchAll of a session holding 1 KiB, 64 KiB and 1 MiB values: %d keys (want 6), 1 MiB value intact: %v", len(all), all["s1048576"] == mib)
	}
}

// pattern returns n bytes of printable text that is not one repeated byte
// (so that a shifted or truncated copy does not compare equal).
func pattern(n int) string {
	block := patternBlock()
	return strings.Repeat(block, n/len(block)+1)[:n]
}

// patternBlock is the unit of pattern: counting text of a prime length.
var patternBlock = sync.OnceValue(func() string {
	var b []byte
	for i := 0; len(b) < 4093; i++ {
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ',')
	}
	return string(b[:4093])
})

// boundLargeSessions: sessions well over 1 KB (a message-id history, many
// keys) work, including Clear(retain) and Evict on them.
func boundLargeSessions(f *fixture) {
	const id = "263771234567"
	history := make([]string, 100)
	for i := range history {
		history[i] = fmt.Sprintf("wamid.HBgMMjYzNzcxMjM0NTY3FQIAEhggQTdCMkQ5RjM0RTFDNjA%04d", i)
	}
	f.save(id, "message_history", history)
	want := map[string]any{}
	hist := make([]any, len(history))
	for i, h := range history {
		hist[i] = h
	}
	want["message_history"] = hist
	const keys = 300
	vals := map[string]any{}
	for i := range keys {
		k := fmt.Sprintf("key-%03d", i)
		v := pattern(100 + i)
		vals[k] = v
		want[k] = v
	}
	f.saveAll(id, vals)
	for i := range 20 {
		f.saveProp(id, fmt.Sprintf("prop-%02d", i), pattern(200))
	}
	f.wantData(id, want)
	got, err := session.Get[[]string](f.ctx, f.m, id, "message_history")
	f.must("Get[[]string](message_history)", err)
	f.wantEqual("Get[[]string](message_history)", got, history)

	evict := make([]string, 0, keys/2)
	for i := 0; i < keys; i += 2 {
		k := fmt.Sprintf("key-%03d", i)
		evict = append(evict, k)
		delete(want, k)
	}
	f.must("EvictAll(half)", f.m.EvictAll(f.ctx, id, evict...))
	f.wantData(id, want)
	f.must("Clear(retain)", f.m.Clear(f.ctx, id, "message_history", "key-001", "key-299", "key-000"))
	f.wantData(id, map[string]any{"message_history": hist, "key-001": pattern(101), "key-299": pattern(399)})
	props, err := f.m.Props(f.ctx, id)
	f.must("Props", err)
	if len(props) != 20 {
		f.t.Errorf("Props after Clear(retain): %d props, want 20", len(props))
	}
}
