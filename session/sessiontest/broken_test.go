package sessiontest_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// The suite must be able to fail. Each breakage below wraps the memory
// store with one bug seen in the WCE seeds' session managers; running the
// rules that guard against it must fail, while the same rules pass on the
// plain memory store. A failing suite cannot run inside this test binary's
// own test without failing it, so it runs in a child process, as the
// standard library's tests do: TestBrokenHelper is the child, selected by
// brokenEnv.

const brokenEnv = "SESSIONTEST_BROKEN"

type breakage struct {
	name string
	// wrap breaks the memory store (nil: the store itself).
	wrap func(*memory.Store) session.Store
	// frozenClock gives the store a clock that never moves.
	frozenClock bool
	// realClock runs the suite with Options.RealClock.
	realClock bool
	// rules are the Group/Rule subtests that must fail (or pass, with pass).
	rules []string
	// pass: not a bug; the rules must pass and print want.
	pass bool
	want string
}

func breakages() []breakage {
	return []breakage{
		{
			name:  "lost-prop-updates", // read-modify-write of the whole props map
			wrap:  func(s *memory.Store) session.Store { return &lostPropUpdates{Store: s} },
			rules: []string{"Concurrency/SavePropDifferentKeys"},
		},
		{
			name:  "split-saveall", // SaveAll as one write per key
			wrap:  func(s *memory.Store) session.Store { return splitSaveAll{Store: s} },
			rules: []string{"Concurrency/SaveAllAtomic"},
		},
		{
			name:  "clear-keeps-props",
			wrap:  func(s *memory.Store) session.Store { return clearKeepsProps{Store: s} },
			rules: []string{"Clear/RemovesDataAndProps"},
		},
		{
			name:  "clear-retain-substring", // retain "stage" also keeps "stage_prev"
			wrap:  func(s *memory.Store) session.Store { return clearRetainSubstring{Store: s} },
			rules: []string{"Clear/RetainExactNames"},
		},
		{
			name:  "clear-retain-prefix-large", // past 128 fields, retain "f1" also keeps "f10"
			wrap:  func(s *memory.Store) session.Store { return clearRetainPrefixLarge{Store: s} },
			rules: []string{"Clear/RetainLargeSession"},
		},
		{
			name:  "removals-do-not-slide", // Evict, EvictAll, Clear(retain) keep the old deadline
			wrap:  func(s *memory.Store) session.Store { return removalsNoSlide{Store: s} },
			rules: []string{"Expiry/RemovalsSlide"},
		},
		{
			name:  "evict-reinserts", // Evict writes the key back as null
			wrap:  func(s *memory.Store) session.Store { return evictReinserts{Store: s} },
			rules: []string{"Evict/RemovesKeyForGood"},
		},
		{
			name:  "globals-in-session-global", // globals kept as the session "global"
			wrap:  func(s *memory.Store) session.Store { return globalsInSession{Store: s} },
			rules: []string{"Globals/OwnNamespace", "Globals/AreNotSessions"},
		},
		{
			name:        "ignores-expiry",
			frozenClock: true,
			rules:       []string{"Expiry/IdleTimeout", "Expiry/SetExpiryAbsoluteTTL"},
		},
		{
			// Not a bug: on the real clock, a check that ran too late to
			// judge is retried, not failed.
			name:      "slow-once",
			realClock: true,
			wrap:      slowOnce(),
			rules:     []string{"Expiry/IdleTimeout"},
			pass:      true,
			want:      "inconclusive, trying again",
		},
	}
}

// TestBrokenHelper runs the suite on the breakage named by brokenEnv ("none"
// for the plain memory store). It does nothing in a normal test run.
func TestBrokenHelper(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		return
	}
	b := breakage{name: "none"}
	for _, c := range breakages() {
		if c.name == name {
			b = c
		}
	}
	if b.name != name && name != "none" {
		t.Fatalf("unknown breakage %q", name)
	}
	sessiontest.RunWith(t, sessiontest.Options{RealClock: b.realClock}, func(t *testing.T, env sessiontest.Env) session.Manager {
		cfg := memory.Config{}
		if b.frozenClock {
			frozen := env.Now()
			cfg.Now = func() time.Time { return frozen }
		}
		store := newMemoryStore(t, env, cfg)
		if b.wrap == nil {
			return session.NewManager(store, session.Config{})
		}
		return session.NewManager(b.wrap(store), session.Config{})
	})
}

// runBroken runs TestBrokenHelper in a child process on breakage name,
// limited to rules, and returns its output and whether it passed.
func runBroken(t *testing.T, name string, rules []string) (string, bool) {
	t.Helper()
	groups, names := map[string]bool{}, map[string]bool{}
	for _, r := range rules {
		g, n, _ := strings.Cut(r, "/")
		groups[g], names[n] = true, true
	}
	run := "^TestBrokenHelper$/^(" + strings.Join(sortedKeys(groups), "|") + ")$/^(" + strings.Join(sortedKeys(names), "|") + ")$"
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+run, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), brokenEnv+"="+name)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("child process for %s timed out:\n%s", name, out)
	}
	return string(out), err == nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestSuiteDetectsBrokenStores(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("running as the child process")
	}
	var all []string
	for _, b := range breakages() {
		if !b.pass {
			all = append(all, b.rules...)
		}
	}
	t.Run("control", func(t *testing.T) {
		t.Parallel()
		out, ok := runBroken(t, "none", all)
		if !ok {
			t.Fatalf("the rules used below fail on the plain memory store:\n%s", out)
		}
		for _, r := range all {
			if !strings.Contains(out, "--- PASS: TestBrokenHelper/"+r+" ") {
				t.Errorf("rule %s did not run and pass on the plain memory store:\n%s", r, out)
			}
		}
	})
	for _, b := range breakages() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			out, ok := runBroken(t, b.name, b.rules)
			if b.pass {
				if !ok || !strings.Contains(out, b.want) {
					t.Fatalf("%q: want a pass that prints %q:\n%s", b.name, b.want, out)
				}
				return
			}
			if ok {
				t.Fatalf("the suite passed a store with the bug %q:\n%s", b.name, out)
			}
			for _, r := range b.rules {
				if !strings.Contains(out, "--- FAIL: TestBrokenHelper/"+r+" ") {
					t.Errorf("rule %s did not fail on the bug %q:\n%s", r, b.name, out)
				}
			}
			if strings.Contains(out, "panic:") {
				t.Errorf("the suite panicked on the bug %q:\n%s", b.name, out)
			}
		})
	}
}

// lostPropUpdates keeps props in a map per session and writes one prop by
// copying the map, yielding, and putting the copy back (the Hazelcast
// seed's get-modify-put): concurrent SaveProps lose each other's writes.
type lostPropUpdates struct {
	session.Store
	mu    sync.Mutex // guards props
	props map[string]map[string][]byte
}

func (s *lostPropUpdates) SaveProp(ctx context.Context, id, key string, value []byte) error {
	if err := session.ValidateID(id); err != nil {
		return err
	}
	if err := session.ValidateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	cur := maps.Clone(s.props[id])
	s.mu.Unlock()
	runtime.Gosched()
	if cur == nil {
		cur = map[string][]byte{}
	}
	cur[key] = bytes.Clone(value)
	s.mu.Lock()
	if s.props == nil {
		s.props = map[string]map[string][]byte{}
	}
	s.props[id] = cur
	s.mu.Unlock()
	return nil
}

func (s *lostPropUpdates) GetProp(ctx context.Context, id, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.props[id][key]
	if !ok {
		return nil, session.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (s *lostPropUpdates) Props(ctx context.Context, id string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range s.props[id] {
		out[k] = bytes.Clone(v)
	}
	return out, nil
}

// splitSaveAll writes the fields of one Save one at a time.
type splitSaveAll struct{ session.Store }

func (s splitSaveAll) Save(ctx context.Context, id string, fields ...session.Field) (int, error) {
	added := 0
	for _, f := range fields {
		n, err := s.Store.Save(ctx, id, f)
		if err != nil {
			return added, err
		}
		added += n
		runtime.Gosched()
	}
	return added, nil
}

// clearKeepsProps clears a session by evicting its data keys only.
type clearKeepsProps struct{ session.Store }

func (s clearKeepsProps) Clear(ctx context.Context, id string, retain ...string) (bool, error) {
	if len(retain) > 0 {
		return s.Store.Clear(ctx, id, retain...)
	}
	all, err := s.Store.GetAll(ctx, id)
	if err != nil {
		return false, err
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	_, err = s.Store.Evict(ctx, id, keys...)
	return len(keys) > 0, err
}

// clearRetainSubstring keeps every key that contains a retained name.
type clearRetainSubstring struct{ session.Store }

func (s clearRetainSubstring) Clear(ctx context.Context, id string, retain ...string) (bool, error) {
	if len(retain) == 0 {
		return s.Store.Clear(ctx, id)
	}
	all, err := s.Store.GetAll(ctx, id)
	if err != nil {
		return false, err
	}
	var drop []string
	for k := range all {
		keep := false
		for _, r := range retain {
			keep = keep || strings.Contains(k, r)
		}
		if !keep {
			drop = append(drop, k)
		}
	}
	_, err = s.Store.Evict(ctx, id, drop...)
	return len(all) > 0, err
}

// clearRetainPrefixLarge keeps, in a session of more than 128 fields,
// every key that starts with a retained name (exact names below).
type clearRetainPrefixLarge struct{ session.Store }

func (s clearRetainPrefixLarge) Clear(ctx context.Context, id string, retain ...string) (bool, error) {
	all, err := s.Store.GetAll(ctx, id)
	if err != nil || len(retain) == 0 || len(all) <= 128 {
		return s.Store.Clear(ctx, id, retain...)
	}
	var drop []string
	for k := range all {
		if !slices.ContainsFunc(retain, func(r string) bool { return strings.HasPrefix(k, r) }) {
			drop = append(drop, k)
		}
	}
	_, err = s.Store.Evict(ctx, id, drop...)
	return true, err
}

// removalsNoSlide removes data without sliding the idle timeout: after
// Evict or Clear(retain) it sets the idle timeout to what was left of it.
type removalsNoSlide struct{ session.Store }

func (s removalsNoSlide) keepDeadline(ctx context.Context, id string) func() {
	ttl, err := s.Store.TTL(ctx, id)
	return func() {
		if err == nil && ttl > 0 {
			_ = s.Store.SetExpiry(ctx, id, session.Expiry{Idle: ttl})
		}
	}
}

func (s removalsNoSlide) Evict(ctx context.Context, id string, keys ...string) (int, error) {
	defer s.keepDeadline(ctx, id)()
	return s.Store.Evict(ctx, id, keys...)
}

func (s removalsNoSlide) Clear(ctx context.Context, id string, retain ...string) (bool, error) {
	if len(retain) == 0 {
		return s.Store.Clear(ctx, id)
	}
	defer s.keepDeadline(ctx, id)()
	return s.Store.Clear(ctx, id, retain...)
}

// evictReinserts "removes" a key by writing null over it.
type evictReinserts struct{ session.Store }

func (s evictReinserts) Evict(ctx context.Context, id string, keys ...string) (int, error) {
	n, err := s.Store.Evict(ctx, id, keys...)
	if err != nil || n == 0 {
		return n, err
	}
	for _, k := range keys {
		if _, err := s.Store.Save(ctx, id, session.Field{Key: k, Value: []byte("null")}); err != nil {
			return n, err
		}
	}
	return n, nil
}

// globalsInSession keeps globals as the data of the session "global".
type globalsInSession struct{ session.Store }

const globalID = "global"

func (s globalsInSession) SaveGlobal(ctx context.Context, key string, value []byte) error {
	_, err := s.Store.Save(ctx, globalID, session.Field{Key: key, Value: value})
	return err
}

func (s globalsInSession) GetGlobal(ctx context.Context, key string) ([]byte, error) {
	return s.Store.Get(ctx, globalID, key)
}

func (s globalsInSession) EvictGlobal(ctx context.Context, key string) (bool, error) {
	n, err := s.Store.Evict(ctx, globalID, key)
	return n > 0, err
}

func (s globalsInSession) Globals(ctx context.Context) (map[string][]byte, error) {
	return s.Store.GetAll(ctx, globalID)
}

// slowOnce returns a wrapper whose first GetAll, across every store it
// wraps, sleeps past RealIdle before reading.
func slowOnce() func(*memory.Store) session.Store {
	var slept atomic.Bool
	return func(s *memory.Store) session.Store { return slowGetAll{Store: s, slept: &slept} }
}

type slowGetAll struct {
	session.Store
	slept *atomic.Bool
}

func (s slowGetAll) GetAll(ctx context.Context, id string) (map[string][]byte, error) {
	if s.slept.CompareAndSwap(false, true) {
		time.Sleep(sessiontest.RealIdle + 100*time.Millisecond)
	}
	return s.Store.GetAll(ctx, id)
}
