package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// countingBackend records the operations the workload sends.
type countingBackend struct {
	backend
	log []string // "op key" per call
}

func (c *countingBackend) add(op, key string) { c.log = append(c.log, op+" "+key) }

func (c *countingBackend) Get(ctx context.Context, id, key string) ([]byte, error) {
	c.add("get", key)
	return c.backend.Get(ctx, id, key)
}

func (c *countingBackend) Save(ctx context.Context, id string, fields ...session.Field) error {
	ks := make([]string, len(fields))
	for i, f := range fields {
		ks[i] = f.Key
	}
	c.add("save", strings.Join(ks, ","))
	return c.backend.Save(ctx, id, fields...)
}

func (c *countingBackend) Exists(ctx context.Context, id, key string) (bool, error) {
	c.add("exists", key)
	return c.backend.Exists(ctx, id, key)
}

func (c *countingBackend) Evict(ctx context.Context, id string, keys ...string) error {
	c.add("evict", strings.Join(keys, ","))
	return c.backend.Evict(ctx, id, keys...)
}

func (c *countingBackend) Clear(ctx context.Context, id string) error {
	c.add("clear", "")
	return c.backend.Clear(ctx, id)
}

func (c *countingBackend) GetProp(ctx context.Context, id, key string) ([]byte, error) {
	c.add("getprop", key)
	return c.backend.GetProp(ctx, id, key)
}

func (c *countingBackend) SaveProp(ctx context.Context, id, key string, v []byte) error {
	c.add("saveprop", key)
	return c.backend.SaveProp(ctx, id, key, v)
}

// reads and writes counts the log's reads and writes.
func (c *countingBackend) counts() (reads, writes int) {
	for _, l := range c.log {
		switch op, _, _ := strings.Cut(l, " "); op {
		case "get", "exists", "getprop":
			reads++
		default:
			writes++
		}
	}
	return reads, writes
}

func newMemoryBackend(t *testing.T) (*memory.Store, *countingBackend) {
	t.Helper()
	st, err := memory.New(memory.Config{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	return st, &countingBackend{backend: storeBackend{st}}
}

// preloaded returns an engine over a memory store holding user 7's session.
func preloaded(t *testing.T, w workload) (*engine, *countingBackend, *memory.Store, string) {
	t.Helper()
	st, cb := newMemoryBackend(t)
	e := newEngine(&w, cb, 42)
	id := w.Prefix + msisdnOf(7)
	data, props := e.preloadSession(7, time.Now())
	if _, err := st.Save(context.Background(), id, data...); err != nil {
		t.Fatal(err)
	}
	for _, p := range props {
		if err := st.SaveProp(context.Background(), id, p.Key, p.Value); err != nil {
			t.Fatal(err)
		}
	}
	return e, cb, st, id
}

// TestMessageShape checks the per-message sequence of WORKLOAD.md: 14 reads
// and 7 writes or evictions on a returning user's session, plus one prop
// read and write when the template asks the user something.
func TestMessageShape(t *testing.T) {
	w := defaultWorkload()
	w.PropRate, w.CheckpointRate, w.RetryRate, w.ClearRate = 0, 0, 0, 0
	e, cb, _, id := preloaded(t, w)
	ops, err := e.message(context.Background(), 7, id)
	if err != nil {
		t.Fatal(err)
	}
	r, wr := cb.counts()
	if r != 14 || wr != 7 || ops != 21 {
		t.Errorf("steady message: %d reads, %d writes, %d ops; want 14, 7, 21\n%s", r, wr, ops, strings.Join(cb.log, "\n"))
	}
	for _, want := range []string{"get pywce_history", "save pywce_history", "save pywce_debounce", "save pywce_current_stage",
		"save pywce_prev_stage", "save pywce_last_activity", "evict pywce_dynamic_retry", "save pywce_msg_id", "exists pywce_ext_handler"} {
		if !contains(cb.log, want) {
			t.Errorf("message did not %q:\n%s", want, strings.Join(cb.log, "\n"))
		}
	}

	w.PropRate = 1
	e.w = &w
	cb.log = nil
	if _, err := e.message(context.Background(), 7, id); err != nil {
		t.Fatal(err)
	}
	r, wr = cb.counts()
	if r != 15 || wr != 8 {
		t.Errorf("message with a prop: %d reads, %d writes; want 15, 8", r, wr)
	}
}

func contains(log []string, s string) bool {
	for _, l := range log {
		if l == s {
			return true
		}
	}
	return false
}

// TestReadShare checks the mix over many messages with the default rates:
// about 75% reads, about 21.7 operations a message.
func TestReadShare(t *testing.T) {
	w := defaultWorkload()
	e, cb, _, id := preloaded(t, w)
	const n = 2000
	total := 0
	for range n {
		ops, err := e.message(context.Background(), 7, id)
		if err != nil {
			t.Fatal(err)
		}
		total += ops
	}
	r, wr := cb.counts()
	share := float64(r) / float64(r+wr)
	perMsg := float64(total) / n
	if share < 0.64 || share > 0.70 || total != r+wr {
		t.Errorf("reads are %.1f%% of %d ops (%d counted); want about 66-67%%", 100*share, total, r+wr)
	}
	if perMsg < 20.5 || perMsg > 22.5 {
		t.Errorf("%.2f ops per message, want about 21.7", perMsg)
	}
}

// TestSessionSize checks preloaded sessions: 13 engine keys, 1-8 KB, and a
// history that grows to its cap and stays valid JSON.
func TestSessionSize(t *testing.T) {
	w := defaultWorkload()
	e := newEngine(&w, nil, 1)
	minSize, maxSize := 1<<30, 0
	for u := range 500 {
		data, props := e.preloadSession(u, time.Now())
		if len(data) < 12 || len(data) > 16 {
			t.Fatalf("session of %d keys, want 12-16", len(data))
		}
		if len(props) > 4 {
			t.Fatalf("%d props, want 0-4", len(props))
		}
		size := 0
		for _, f := range append(data, props...) {
			size += len(f.Key) + len(f.Value)
			if !json.Valid(f.Value) {
				t.Fatalf("key %s holds invalid JSON %q", f.Key, f.Value)
			}
		}
		minSize, maxSize = min(minSize, size), max(maxSize, size)
	}
	if minSize < 1000 || maxSize > 8192 {
		t.Errorf("session sizes %d..%d bytes, want within 1-8 KB", minSize, maxSize)
	}
	if maxSize < 6000 {
		t.Errorf("largest session %d bytes: the 100-id history (about 6 KB) never showed up", maxSize)
	}
}

// TestHistoryGrowsToCap runs messages on one session and checks the stored
// history: valid JSON, capped, newest id last, oldest dropped first.
func TestHistoryGrowsToCap(t *testing.T) {
	w := defaultWorkload()
	w.HistoryMax = 10
	w.ClearRate = 0
	e, _, st, id := preloaded(t, w)
	ctx := context.Background()
	var sent []string
	for range 25 {
		if _, err := e.message(ctx, 7, id); err != nil {
			t.Fatal(err)
		}
		last, err := st.Get(ctx, id, keyMsgID)
		if err != nil {
			t.Fatal(err)
		}
		var s string
		if err := json.Unmarshal(last, &s); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, s)
	}
	raw, err := st.Get(ctx, id, keyHistory)
	if err != nil {
		t.Fatal(err)
	}
	var hist []string
	if err := json.Unmarshal(raw, &hist); err != nil {
		t.Fatalf("history is not a JSON list of strings: %v: %s", err, raw)
	}
	if want := sent[len(sent)-10:]; fmt.Sprint(hist) != fmt.Sprint(want) {
		t.Errorf("history = %v\nwant the last 10 ids %v", hist, want)
	}
}

func TestHistoryHelpers(t *testing.T) {
	h := historyAppend(nil, []byte("a"), 3)
	for _, id := range []string{"b", "c", "d", "e"} {
		h = historyAppend(h, []byte(id), 3)
	}
	if string(h) != `["c","d","e"]` {
		t.Errorf("history = %s, want [\"c\",\"d\",\"e\"]", h)
	}
	if historyLen(h) != 3 || historyLen([]byte("[]")) != 0 || historyLen(nil) != 0 {
		t.Error("historyLen is wrong")
	}
	if !historyContains(h, []byte("d")) || historyContains(h, []byte("a")) {
		t.Error("historyContains is wrong")
	}
	if got := historyAppend([]byte("garbage"), []byte("x"), 3); string(got) != `["x"]` {
		t.Errorf("a malformed history must start over, got %s", got)
	}
	if got := historyAppend([]byte(`["a","b"]`), []byte("x"), 1); string(got) != `["x"]` {
		t.Errorf("cap 1 keeps only the new id, got %s", got)
	}
}

// TestClearAndRecreate checks the timeout path: the session is cleared
// whole, and the next message starts it again with the profile.
func TestClearAndRecreate(t *testing.T) {
	w := defaultWorkload()
	w.ClearRate = 1
	e, cb, st, id := preloaded(t, w)
	ctx := context.Background()
	if _, err := e.message(ctx, 7, id); err != nil {
		t.Fatal(err)
	}
	if !contains(cb.log, "clear ") {
		t.Fatalf("no Clear with ClearRate 1:\n%s", strings.Join(cb.log, "\n"))
	}
	if kind, _ := st.KindOf(ctx, id); kind != session.KindNone {
		// The history and debounce were written before the check, then
		// everything was cleared.
		t.Fatalf("session still exists after Clear: %v", kind)
	}
	w.ClearRate = 0
	if _, err := e.message(ctx, 7, id); err != nil {
		t.Fatal(err)
	}
	all, err := st.GetAll(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{keyAuthSession, keyAuthMSISDN, keyCurrentStage, keyPrevStage, keyHistory, keyMsgID} {
		if _, ok := all[k]; !ok {
			t.Errorf("recreated session lacks %s: %v", k, keys(all))
		}
	}
	if prev := all[keyPrevStage]; !bytes.Equal(prev, jsonString(stages[0])) {
		t.Errorf("first message after a clear: previous stage %s, want the start stage", prev)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDeterministic checks that a seed gives the same operation sequence.
func TestDeterministic(t *testing.T) {
	seq := func() string {
		w := defaultWorkload()
		e, cb, _, id := preloaded(t, w)
		for range 50 {
			if _, err := e.message(context.Background(), 7, id); err != nil {
				t.Fatal(err)
			}
		}
		return strings.Join(cb.log, "\n")
	}
	if a, b := seq(), seq(); a != b {
		t.Error("two runs with the same seed sent different operations")
	}
}

// TestZipfSkew checks the user distribution: a permutation of the
// population, skewed toward a few users.
func TestZipfSkew(t *testing.T) {
	w := defaultWorkload()
	w.Sessions = 10000
	p := newPopulation(&w, w.Prefix)
	seen := make(map[int]bool)
	for _, u := range p.users {
		if u < 0 || u >= w.Sessions || seen[u] {
			t.Fatalf("rank-to-user map is not a permutation (user %d)", u)
		}
		seen[u] = true
	}
	if p.users[0] == 0 && p.users[1] == 1 {
		t.Error("hot users are not spread over the id space")
	}
	ch := p.chooser(rand.New(rand.NewPCG(1, 1)), w.Zipf)
	counts := make(map[int]int)
	const draws = 100000
	for range draws {
		u, _ := ch.next()
		counts[u]++
		p.done(u)
	}
	top := 0
	for r := range w.Sessions / 100 { // the hottest 1% of users
		top += counts[p.users[r]]
	}
	if share := float64(top) / draws; share < 0.5 || share > 0.95 {
		t.Errorf("top 1%% of users got %.0f%% of messages, want a Zipf-like majority", 100*share)
	}
	if len(counts) < 1000 {
		t.Errorf("only %d distinct users in %d draws: the tail is missing", len(counts), draws)
	}
}

// TestBusyUserRedrawn checks per-user serialization: a user with a message
// in progress is never handed out again until done.
func TestBusyUserRedrawn(t *testing.T) {
	w := defaultWorkload()
	w.Sessions = 3
	p := newPopulation(&w, w.Prefix)
	ch := p.chooser(rand.New(rand.NewPCG(1, 1)), w.Zipf)
	a, _ := ch.next()
	b, _ := ch.next()
	c, _ := ch.next()
	if a == b || b == c || a == c {
		t.Fatalf("a busy user was handed out twice: %d %d %d", a, b, c)
	}
	p.done(b)
	if d, _ := ch.next(); d != b {
		t.Fatalf("got user %d, want %d, the only one free", d, b)
	}
}
