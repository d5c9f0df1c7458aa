package sessiontest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sessiongrid/sessiongrid/session"
)

// concurrencyRules: every method is one atomic operation, and concurrent
// writers on one session never lose each other's writes. Run under -race.
func concurrencyRules() []rule {
	return []rule{
		{"SaveDifferentKeys", concSaveDifferentKeys},
		{"SavePropDifferentKeys", concSavePropDifferentKeys},
		{"SaveGlobalDifferentKeys", concSaveGlobalDifferentKeys},
		{"SaveAllAtomic", concSaveAllAtomic},
		{"EvictAllAtomic", concEvictAllAtomic},
		{"SameKeyNoTornValues", concSameKey},
		{"ManySessions", concManySessions},
	}
}

const (
	concWorkers = 8
	concOps     = 40
	concID      = "263771234567"
)

// parallel runs fn(w) for w in [0, n) at once and waits.
func parallel(n int, fn func(w int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range n {
		wg.Go(func() {
			<-start
			fn(w)
		})
	}
	close(start)
	wg.Wait()
}

// writeKeys runs concWorkers goroutines that each call save for ops keys
// of their own, "w<worker>-<kind><i>" holding i, and returns the keys and
// values they wrote. A failed save is reported as op(key) and stops its
// goroutine.
func writeKeys(f *fixture, op, kind string, ops int, save func(key string, i int) error) map[string]any {
	parallel(concWorkers, func(w int) {
		for i := range ops {
			key := fmt.Sprintf("w%d-%s%d", w, kind, i)
			if err := save(key, i); err != nil {
				f.t.Errorf("%s(%s): %v", op, key, err)
				return
			}
		}
	})
	want := map[string]any{}
	for w := range concWorkers {
		for i := range ops {
			want[fmt.Sprintf("w%d-%s%d", w, kind, i)] = float64(i)
		}
	}
	return want
}

func concSaveDifferentKeys(f *fixture) {
	h := f.m.Session(concID)
	want := writeKeys(f, "Save", "k", concOps, func(key string, i int) error {
		if i%2 == 0 {
			return f.m.Save(f.ctx, concID, key, i)
		}
		return h.Save(f.ctx, key, i)
	})
	if err := f.dataIs(concID, want); err != nil {
		f.t.Errorf("after %d goroutines each saved %d different keys: %v", concWorkers, concOps, lost(err, want))
	}
}

func concSavePropDifferentKeys(f *fixture) {
	f.save(concID, "stage", "ask") // data beside the props must survive too
	want := writeKeys(f, "SaveProp", "p", concOps, func(key string, i int) error {
		return f.m.SaveProp(f.ctx, concID, key, i)
	})
	if err := f.propsAre(concID, want); err != nil {
		f.t.Errorf("after %d goroutines each saved %d different props: %v", concWorkers, concOps, lost(err, want))
	}
	f.wantData(concID, map[string]any{"stage": "ask"})
}

func concSaveGlobalDifferentKeys(f *fixture) {
	want := writeKeys(f, "SaveGlobal", "g", concOps/4, func(key string, i int) error {
		return f.m.SaveGlobal(f.ctx, key, i)
	})
	f.wantGlobals(want)
}

// lost shortens a collection mismatch to the number of missing keys.
func lost(err error, want map[string]any) error {
	return fmt.Errorf("%w\n(want %d keys)", err, len(want))
}

// concSaveAllAtomic: a reader never sees part of a SaveAll. Writers save
// {a: i, b: i, c: i}; every FetchAll must show a == b == c.
func concSaveAllAtomic(f *fixture) {
	const writers, readers, rounds = 2, 3, 100
	var done atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			h := f.m.Session(concID)
			for !done.Load() {
				var all map[string]any
				var err error
				if r%2 == 0 {
					all, err = f.m.FetchAll(f.ctx, concID)
				} else {
					all, err = h.FetchAll(f.ctx)
				}
				if err != nil {
					f.t.Errorf("FetchAll: %v", err)
					return
				}
				reads.Add(1)
				if len(all) == 0 {
					continue
				}
				if len(all) != 3 || all["a"] != all["b"] || all["b"] != all["c"] {
					f.t.Errorf("FetchAll saw part of a SaveAll: %s, want a == b == c", show(all))
					return
				}
			}
		})
	}
	parallel(writers, func(w int) {
		for i := range rounds {
			v := w*rounds + i
			if err := f.m.SaveAll(f.ctx, concID, map[string]any{"a": v, "b": v, "c": v}); err != nil {
				f.t.Errorf("SaveAll: %v", err)
				return
			}
		}
	})
	done.Store(true)
	wg.Wait()
	if reads.Load() == 0 {
		f.t.Error("readers made no FetchAll while the writers ran")
	}
}

// concEvictAllAtomic: a reader never sees part of an EvictAll. A writer
// alternates SaveAll{a, b, c} and EvictAll(a, b, c); every FetchAll shows
// all three keys or none.
func concEvictAllAtomic(f *fixture) {
	const readers, rounds = 3, 100
	f.saveProp(concID, "keep", "alive")
	var done atomic.Bool
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for !done.Load() {
				all, err := f.m.FetchAll(f.ctx, concID)
				if err != nil {
					f.t.Errorf("FetchAll: %v", err)
					return
				}
				if len(all) != 0 && (len(all) != 3 || all["a"] != all["b"] || all["b"] != all["c"]) {
					f.t.Errorf("FetchAll saw part of an EvictAll or SaveAll: %s, want all of a, b, c (equal) or none", show(all))
					return
				}
			}
		})
	}
	for i := range rounds {
		if err := f.m.SaveAll(f.ctx, concID, map[string]any{"a": i, "b": i, "c": i}); err != nil {
			f.t.Errorf("SaveAll: %v", err)
			break
		}
		if err := f.m.EvictAll(f.ctx, concID, "a", "b", "c"); err != nil {
			f.t.Errorf("EvictAll: %v", err)
			break
		}
	}
	done.Store(true)
	wg.Wait()
	f.wantData(concID, map[string]any{})
	f.wantProps(concID, map[string]any{"keep": "alive"})
}

// tornValue is written whole by one writer: Pad repeats the byte of N.
type tornValue struct {
	N   int    `json:"n"`
	Pad string `json:"pad"`
}

func newTornValue(n int) tornValue {
	return tornValue{N: n, Pad: strings.Repeat(string(rune('a'+n%26)), 4096)}
}

// concSameKey: writers of one key never produce a value that is a mix of
// two writes, and the last value is one of those written.
func concSameKey(f *fixture) {
	const writers, rounds = 4, 30
	check := func(op string, v tornValue) bool {
		if v != newTornValue(v.N) {
			f.t.Errorf("%s returned a value no writer wrote (n=%d, pad %s)", op, v.N, short(v.Pad))
			return false
		}
		return true
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for !done.Load() {
			v, err := session.Get[tornValue](f.ctx, f.m, concID, "k")
			if err == nil && !check("Get", v) {
				return
			}
			if err != nil && !isNotFound(err) {
				f.t.Errorf("Get: %v", err)
				return
			}
		}
	})
	parallel(writers, func(w int) {
		for i := range rounds {
			if err := f.m.Save(f.ctx, concID, "k", newTornValue(w*rounds+i)); err != nil {
				f.t.Errorf("Save: %v", err)
				return
			}
		}
	})
	done.Store(true)
	wg.Wait()
	v, err := session.Get[tornValue](f.ctx, f.m, concID, "k")
	f.must("Get after the writers", err)
	check("Get after the writers", v)
}

// concManySessions: goroutines working on their own sessions at once see
// only their own data, while another goroutine clears unrelated sessions.
func concManySessions(f *fixture) {
	const extra = "bystander"
	parallel(concWorkers+1, func(w int) {
		if w == concWorkers {
			for i := range concOps {
				id := fmt.Sprintf("%s-%d", extra, i%3)
				if err := f.m.Save(f.ctx, id, "k", i); err != nil {
					f.t.Errorf("Save(%s): %v", id, err)
					return
				}
				if err := f.m.Clear(f.ctx, id); err != nil {
					f.t.Errorf("Clear(%s): %v", id, err)
					return
				}
			}
			return
		}
		id := fmt.Sprintf("user-%d", w)
		h := f.m.Session(id)
		for i := range concOps {
			if err := h.SaveAll(f.ctx, map[string]any{"stage": i, "owner": id}); err != nil {
				f.t.Errorf("SaveAll(%s): %v", id, err)
				return
			}
			if err := h.SaveProp(f.ctx, "owner", id); err != nil {
				f.t.Errorf("SaveProp(%s): %v", id, err)
				return
			}
			all, err := h.FetchAll(f.ctx)
			if err != nil || len(all) != 2 || all["owner"] != id || all["stage"] != float64(i) {
				f.t.Errorf("FetchAll(%s) = %s, %v; want {owner: %s, stage: %d}", id, show(all), err, id, i)
				return
			}
			if i%5 == 4 {
				if err := h.Clear(f.ctx, "owner"); err != nil {
					f.t.Errorf("Clear(%s, owner): %v", id, err)
					return
				}
			}
		}
	})
	for w := range concWorkers {
		id := fmt.Sprintf("user-%d", w)
		f.wantData(id, map[string]any{"owner": id})
		f.wantProps(id, map[string]any{"owner": id})
	}
}
