package sessiontest

import (
	"errors"
	"fmt"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// expiryRules: a session disappears after its idle timeout without writes,
// or at its absolute deadline; writes slide the idle timeout; SetExpiry
// overrides both per session. Expiry checks never read a session before the
// check, so the rules hold whether or not the store slides on reads.
func expiryRules() []rule {
	return []rule{
		{"IdleTimeout", expiryIdle},
		{"WritesSlide", expiryWritesSlide},
		{"SavePropSlides", expirySavePropSlides},
		{"RemovalsSlide", expiryRemovalsSlide},
		{"TTLReportsRemaining", expiryTTL},
		{"SetExpiryShorterIdle", expiryShorterIdle},
		{"SetExpiryLongerIdle", expiryLongerIdle},
		{"SetExpiryNoExpiry", expiryNoExpiry},
		{"SetExpiryAbsoluteTTL", expiryAbsolute},
		{"SetExpiryZeroIdleKeepsCurrent", expiryZeroIdle},
		{"SetExpiryZeroTTLRemovesDeadline", expiryZeroTTL},
		{"SetExpiryRestartsIdleClock", expiryRestarts},
		{"OverrideLastsUntilCleared", expiryOverrideLasts},
		{"ReuseAfterExpiry", expiryReuse},
		{"GlobalsDoNotIdleOut", expiryGlobals},
	}
}

// ttlTolerance absorbs a store's rounding of TTL (Redis reports whole ms).
const ttlTolerance = time.Millisecond

// gone reports whether session id has expired, as seen by every read: key
// was a data key of it and prop a prop ("" when it had none).
func (f *fixture) gone(id, key, prop string) error {
	if _, err := f.m.Load(f.ctx, id, key); !errors.Is(err, session.ErrNotFound) {
		return fmt.Errorf("Load(%q, %q) of an expired session: got error %v, want ErrNotFound", id, key, err)
	}
	if ok, err := f.m.Exists(f.ctx, id, key); err != nil || ok {
		return fmt.Errorf("Exists(%q, %q) of an expired session = %v, %v; want false, nil", id, key, ok, err)
	}
	if prop != "" {
		if _, err := f.m.LoadProp(f.ctx, id, prop); !errors.Is(err, session.ErrNotFound) {
			return fmt.Errorf("LoadProp(%q, %q) of an expired session: got error %v, want ErrNotFound", id, prop, err)
		}
	}
	return f.noSession(id)
}

// wantExpired expects session id to be gone (see gone), then checks that
// removals and SetExpiry on it neither fail nor bring anything back.
func (f *fixture) wantExpired(desc, id, key, prop string) {
	f.t.Helper()
	f.expect(desc, func() error { return f.gone(id, key, prop) })
	f.must("Evict of an expired session", f.m.Evict(f.ctx, id, key))
	f.must("Clear(retain) of an expired session", f.m.Clear(f.ctx, id, key))
	if prop != "" {
		f.wantBool(fmt.Sprintf("EvictProp(%q, %q) of an expired session", id, prop), false)(f.m.EvictProp(f.ctx, id, prop))
	}
	f.wantErr("SetExpiry of an expired session", f.m.SetExpiry(f.ctx, id, session.Expiry{Idle: session.NoExpiry}), session.ErrNotFound)
	if err := f.gone(id, key, prop); err != nil {
		f.t.Errorf("%s: after Evict, Clear(retain), EvictProp and SetExpiry: %v", desc, err)
	}
}

// wantTTL checks TTL(id) against want, the time left at since: time that
// passed since then (real clock) may have been used up, nothing more.
func (f *fixture) wantTTL(id string, want time.Duration, since time.Time) {
	f.t.Helper()
	got, err := f.m.TTL(f.ctx, id)
	f.must(fmt.Sprintf("TTL(%q)", id), err)
	lo := want - f.now().Sub(since) - ttlTolerance
	hi := want + ttlTolerance
	if got <= 0 || got < lo || got > hi {
		f.t.Errorf("TTL(%q) = %v, want about %v (within [%v, %v])", id, got, want, max(lo, 0), hi)
	}
}

func expiryIdle(f *fixture) {
	before := f.now()
	f.save("checked", "stage", "menu")
	f.save("unread", "stage", "menu")
	f.saveProp("unread", "name", "Ada")
	f.saveProp("props-only", "name", "Ada")
	f.elapse(f.idle - f.margin)
	f.still("a session written DefaultIdle-margin ago must still be there", before.Add(f.idle), func() error {
		return f.dataIs("checked", map[string]any{"stage": "menu"})
	})
	f.elapse(2 * f.margin)
	f.wantExpired("a session without writes for DefaultIdle+margin must have expired", "unread", "stage", "name")
	f.wantExpired("a props-only session without writes for DefaultIdle+margin must have expired", "props-only", "stage", "name")
}

// slide checks that each write, run at 2/3 of the idle timeout on two
// sessions of its own, keeps them past the first deadline, and that they
// expire a full idle timeout after it. One timeline serves every write.
// Each session starts with data keys stage and drop (a write may remove
// drop) and prop name.
func (f *fixture) slide(writes map[string]func(id string)) {
	f.t.Helper()
	for what := range writes {
		for _, id := range []string{what + "-checked", what + "-unread"} {
			f.saveAll(id, map[string]any{"stage": "menu", "drop": 1, "drop2": 2})
			f.saveProp(id, "name", "Ada")
		}
	}
	f.elapse(f.idle * 2 / 3)
	before := f.now()
	for what, write := range writes {
		write(what + "-checked")
		write(what + "-unread")
	}
	f.elapse(f.idle * 2 / 3)
	for what := range writes {
		checked := what + "-checked"
		f.still(fmt.Sprintf("a session written by %s 2/3 of DefaultIdle ago (and 4/3 after it was created) must still be there", what),
			before.Add(f.idle), func() error {
				if v, err := f.m.LoadProp(f.ctx, checked, "name"); err != nil || v != "Ada" {
					return fmt.Errorf("LoadProp(name) = %s, %v; want \"Ada\"", show(v), err)
				}
				v, err := f.m.Load(f.ctx, checked, "stage")
				if err != nil || v != "menu" {
					return fmt.Errorf("Load(stage) = %s, %v; want \"menu\"", show(v), err)
				}
				return nil
			})
	}
	f.elapse(f.idle/3 + f.margin)
	for what := range writes {
		f.wantExpired(fmt.Sprintf("a session last written by %s DefaultIdle+margin ago must have expired", what), what+"-unread", "stage", "name")
	}
}

func expiryWritesSlide(f *fixture) {
	f.slide(map[string]func(string){
		"Save":    func(id string) { f.save(id, "stage2", 2) },
		"SaveAll": func(id string) { f.saveAll(id, map[string]any{"x": 1, "y": 2}) },
	})
}

func expirySavePropSlides(f *fixture) {
	f.slide(map[string]func(string){
		"SaveProp": func(id string) { f.saveProp(id, "city", "Harare") },
	})
}

// expiryRemovalsSlide: removing data is a write too: Evict, EvictAll and
// Clear with retain (which keeps the session) slide the idle timeout.
func expiryRemovalsSlide(f *fixture) {
	f.slide(map[string]func(string){
		"Evict":         func(id string) { f.must("Evict(drop)", f.m.Evict(f.ctx, id, "drop")) },
		"EvictAll":      func(id string) { f.must("EvictAll(drop, drop2)", f.m.EvictAll(f.ctx, id, "drop", "drop2")) },
		"Clear(retain)": func(id string) { f.must(`Clear(retain "stage")`, f.m.Clear(f.ctx, id, "stage")) },
	})
}

func expiryTTL(f *fixture) {
	before := f.now()
	f.save("first", "stage", "menu")
	f.save("second", "stage", "menu")
	f.wantTTL("first", f.idle, before)
	f.elapse(f.idle / 3)
	f.wantTTL("second", f.idle-f.idle/3, before)
	got, err := f.m.Session("second").TTL(f.ctx)
	f.must("handle TTL", err)
	if got <= 0 || got > f.idle-f.idle/3+ttlTolerance {
		f.t.Errorf("handle TTL = %v, want in (0, %v]", got, f.idle-f.idle/3)
	}
}

func expiryShorterIdle(f *fixture) {
	short := f.idle / 3
	for _, id := range []string{"checked", "unread"} {
		f.save(id, "stage", "menu")
		f.saveProp(id, "name", "Ada")
	}
	before := f.now()
	f.must("SetExpiry", f.m.SetExpiry(f.ctx, "checked", session.Expiry{Idle: short}))
	f.must("handle SetExpiry", f.m.Session("unread").SetExpiry(f.ctx, session.Expiry{Idle: short}))
	f.wantTTL("checked", short, before)
	f.elapse(short + f.margin)
	f.wantExpired("a session with Idle DefaultIdle/3 idle for longer must have expired", "unread", "stage", "name")
}

func expiryLongerIdle(f *fixture) {
	long := 2 * f.idle
	for _, id := range []string{"checked", "unread"} {
		f.save(id, "stage", "menu")
	}
	before := f.now()
	for _, id := range []string{"checked", "unread"} {
		f.must("SetExpiry", f.m.SetExpiry(f.ctx, id, session.Expiry{Idle: long}))
	}
	f.elapse(f.idle + f.margin)
	f.still("a session with Idle 2*DefaultIdle must outlive DefaultIdle", before.Add(long), func() error {
		return f.dataIs("checked", map[string]any{"stage": "menu"})
	})
	f.elapse(f.idle)
	f.wantExpired("a session with Idle 2*DefaultIdle idle for longer must have expired", "unread", "stage", "")
}

func expiryNoExpiry(f *fixture) {
	f.save("forever", "stage", "menu")
	f.saveProp("forever", "name", "Ada")
	f.save("default", "stage", "menu")
	f.save("capped", "stage", "menu")
	f.must("SetExpiry(NoExpiry)", f.m.SetExpiry(f.ctx, "forever", session.Expiry{Idle: session.NoExpiry}))
	before := f.now()
	f.must("SetExpiry(NoExpiry, TTL)", f.m.SetExpiry(f.ctx, "capped", session.Expiry{Idle: session.NoExpiry, TTL: f.idle / 2}))
	ttl, err := f.m.TTL(f.ctx, "forever")
	f.must("TTL", err)
	if ttl != session.NoExpiry {
		f.t.Errorf("TTL of a session with Idle NoExpiry = %v, want NoExpiry (%v)", ttl, session.NoExpiry)
	}
	f.wantTTL("capped", f.idle/2, before)

	long := 1000 * time.Hour
	if f.real() {
		long = f.idle + f.margin
	}
	f.elapse(long)
	f.expect("a session with Idle NoExpiry must never expire", func() error {
		return f.dataIs("forever", map[string]any{"stage": "menu"})
	})
	f.wantProps("forever", map[string]any{"name": "Ada"})
	f.wantExpired("a session with the default idle timeout must expire beside a NoExpiry one", "default", "stage", "")
	f.wantExpired("a session with Idle NoExpiry and TTL must expire at the TTL", "capped", "stage", "")

	// Later writes keep the override.
	f.save("forever", "stage", "later")
	f.saveProp("forever", "city", "Harare")
	ttl, err = f.m.TTL(f.ctx, "forever")
	f.must("TTL after writes", err)
	if ttl != session.NoExpiry {
		f.t.Errorf("TTL of a NoExpiry session after writes = %v, want NoExpiry", ttl)
	}
}

func expiryAbsolute(f *fixture) {
	lifetime := f.idle / 2
	f.save("ttl", "first", "kept until the deadline")
	f.save("ttl-noidle", "first", "kept until the deadline")
	before := f.now()
	f.must("SetExpiry(TTL)", f.m.SetExpiry(f.ctx, "ttl", session.Expiry{TTL: lifetime}))
	f.must("SetExpiry(NoExpiry, TTL)", f.m.SetExpiry(f.ctx, "ttl-noidle", session.Expiry{Idle: session.NoExpiry, TTL: lifetime}))
	start := f.now()
	f.wantTTL("ttl", lifetime, before)

	// Keep writing: the deadline does not move.
	step := lifetime / 15
	for i := 0; f.now().Add(step).Before(before.Add(lifetime - f.margin)); i++ {
		f.elapse(step)
		f.save("ttl", "tick", i)
		f.still("a session with a TTL must be there before its deadline", before.Add(lifetime), func() error {
			_, err := f.m.Load(f.ctx, "ttl", "first")
			return err
		})
		ttl, err := f.m.TTL(f.ctx, "ttl")
		f.must("TTL", err)
		if ttl > lifetime+ttlTolerance {
			f.t.Fatalf("TTL of a session with a %v absolute deadline is %v after writes: writes moved the deadline", lifetime, ttl)
		}
	}
	f.elapse(start.Add(lifetime + f.margin).Sub(f.now()))
	f.expect("a session written continuously must expire at its absolute deadline", func() error {
		if _, err := f.m.Load(f.ctx, "ttl", "first"); !errors.Is(err, session.ErrNotFound) {
			return fmt.Errorf("Load(first) after the deadline: got error %v, want ErrNotFound", err)
		}
		return nil
	})
	f.wantExpired("a NoExpiry session must expire at its absolute deadline", "ttl-noidle", "first", "")

	// A write now starts a new session, with the default expiry.
	before = f.now()
	f.save("ttl", "tick", "new")
	f.wantData("ttl", map[string]any{"tick": "new"})
	f.wantTTL("ttl", f.idle, before)
}

func expiryZeroIdle(f *fixture) {
	short := f.idle / 3
	for _, id := range []string{"short", "default", "forever"} {
		f.save(id, "stage", "menu")
	}
	before := f.now()
	f.must("SetExpiry(Idle)", f.m.SetExpiry(f.ctx, "short", session.Expiry{Idle: short}))
	f.must("SetExpiry(TTL) with zero Idle", f.m.SetExpiry(f.ctx, "short", session.Expiry{TTL: 10 * f.idle}))
	f.wantTTL("short", short, before)
	f.must("SetExpiry{} with zero fields", f.m.SetExpiry(f.ctx, "default", session.Expiry{}))
	f.wantTTL("default", f.idle, before)
	f.must("SetExpiry(NoExpiry)", f.m.SetExpiry(f.ctx, "forever", session.Expiry{Idle: session.NoExpiry}))
	f.must("SetExpiry{} of a NoExpiry session", f.m.SetExpiry(f.ctx, "forever", session.Expiry{}))
	ttl, err := f.m.TTL(f.ctx, "forever")
	f.must("TTL", err)
	if ttl != session.NoExpiry {
		f.t.Errorf("TTL after SetExpiry(NoExpiry) then SetExpiry{} = %v, want NoExpiry: zero Idle keeps the current idle timeout", ttl)
	}
	f.elapse(short + f.margin)
	f.wantExpired("SetExpiry with zero Idle must keep the shorter idle timeout set before", "short", "stage", "")
	f.elapse(f.idle - short)
	f.wantExpired("SetExpiry{} must keep the default idle timeout", "default", "stage", "")
	f.expect("a session kept with NoExpiry through SetExpiry{} must not expire", func() error {
		return f.dataIs("forever", map[string]any{"stage": "menu"})
	})
}

func expiryZeroTTL(f *fixture) {
	f.save("s", "stage", "menu")
	f.must("SetExpiry(TTL)", f.m.SetExpiry(f.ctx, "s", session.Expiry{TTL: f.idle / 3}))
	before := f.now()
	f.must("SetExpiry with zero TTL", f.m.SetExpiry(f.ctx, "s", session.Expiry{}))
	f.wantTTL("s", f.idle, before)
	f.elapse(f.idle/3 + f.margin)
	f.still("a session whose deadline was removed must outlive it", before.Add(f.idle), func() error {
		return f.dataIs("s", map[string]any{"stage": "menu"})
	})
}

func expiryRestarts(f *fixture) {
	for _, id := range []string{"checked", "unread"} {
		f.save(id, "stage", "menu")
	}
	f.elapse(f.idle * 2 / 3)
	before := f.now()
	for _, id := range []string{"checked", "unread"} {
		f.must("SetExpiry{}", f.m.SetExpiry(f.ctx, id, session.Expiry{}))
	}
	f.elapse(f.idle * 2 / 3)
	f.still("SetExpiry must restart the idle clock", before.Add(f.idle), func() error {
		return f.dataIs("checked", map[string]any{"stage": "menu"})
	})
	f.elapse(f.idle/3 + f.margin)
	f.wantExpired("a session idle for DefaultIdle after SetExpiry must have expired", "unread", "stage", "")
}

func expiryOverrideLasts(f *fixture) {
	const id = "s"
	noExpiry := func(when string) {
		f.t.Helper()
		ttl, err := f.m.TTL(f.ctx, id)
		f.must("TTL "+when, err)
		if ttl != session.NoExpiry {
			f.t.Errorf("TTL %s = %v, want NoExpiry: the override lasts until the session is cleared entirely", when, ttl)
		}
	}
	f.saveAll(id, map[string]any{"keep": 1, "drop": 2})
	f.must("SetExpiry(NoExpiry)", f.m.SetExpiry(f.ctx, id, session.Expiry{Idle: session.NoExpiry}))
	f.save(id, "more", 3)
	noExpiry("after Save")
	f.saveProp(id, "name", "Ada")
	f.must("Evict(more)", f.m.Evict(f.ctx, id, "more"))
	noExpiry("after SaveProp and Evict")
	f.must("Clear(retain keep)", f.m.Clear(f.ctx, id, "keep"))
	noExpiry("after Clear with retain")

	f.must("Clear", f.m.Clear(f.ctx, id))
	before := f.now()
	f.save(id, "new", 1)
	f.wantTTL(id, f.idle, before)

	// A session removed by evicting its last key starts over too.
	f.must("SetExpiry(NoExpiry)", f.m.SetExpiry(f.ctx, id, session.Expiry{Idle: session.NoExpiry}))
	f.must("Evict(new)", f.m.Evict(f.ctx, id, "new"))
	before = f.now()
	f.save(id, "newer", 1)
	f.wantTTL(id, f.idle, before)
}

func expiryReuse(f *fixture) {
	f.saveAll("data", map[string]any{"stage": "menu", "auth": "token"})
	f.saveProp("data", "name", "Ada")
	f.saveAll("props", map[string]any{"stage": "menu"})
	f.saveProp("props", "name", "Ada")
	f.must("SetExpiry", f.m.SetExpiry(f.ctx, "data", session.Expiry{Idle: f.idle / 2}))
	f.must("SetExpiry", f.m.SetExpiry(f.ctx, "props", session.Expiry{Idle: f.idle / 2}))
	f.elapse(f.idle/2 + f.margin)
	f.expect("session must have expired", func() error { return f.gone("data", "stage", "name") })
	f.expect("session must have expired", func() error { return f.gone("props", "stage", "name") })

	before := f.now()
	f.save("data", "fresh", true)
	f.wantData("data", map[string]any{"fresh": true})
	f.wantProps("data", map[string]any{})
	f.wantKeyNotFound("data", "stage")
	f.wantPropNotFound("data", "name")
	f.wantTTL("data", f.idle, before) // the old override is gone too

	f.saveProp("props", "city", "Harare")
	f.wantData("props", map[string]any{})
	f.wantProps("props", map[string]any{"city": "Harare"})
	f.wantTTL("props", f.idle, before)
}

func expiryGlobals(f *fixture) {
	f.saveGlobal("rates", 1.5)
	f.save("s", "stage", "menu")
	f.elapse(f.idle + f.margin)
	f.wantExpired("session must have expired", "s", "stage", "")
	v, err := f.m.LoadGlobal(f.ctx, "rates")
	f.must("LoadGlobal after DefaultIdle: globals are not sessions and do not idle out", err)
	f.wantEqual("LoadGlobal(rates)", v, 1.5)
}
