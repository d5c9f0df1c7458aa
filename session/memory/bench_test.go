package memory_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// baseline is the yardstick of issue 2: a bare map behind one RWMutex doing
// the same byte-level work (copy in on write, copy out on read).
type baseline struct {
	mu sync.RWMutex
	m  map[string][]byte
}

func newBaseline() *baseline { return &baseline{m: make(map[string][]byte)} }

func (b *baseline) get(id, key string) []byte {
	k := id + "\x00" + key
	b.mu.RLock()
	v, ok := b.m[k]
	var out []byte
	if ok {
		out = append(make([]byte, 0, len(v)), v...)
	}
	b.mu.RUnlock()
	return out
}

func (b *baseline) set(id, key string, v []byte) {
	k := id + "\x00" + key
	c := append(make([]byte, 0, len(v)), v...)
	b.mu.Lock()
	b.m[k] = c
	b.mu.Unlock()
}

func (b *baseline) del(id, key string) {
	k := id + "\x00" + key
	b.mu.Lock()
	delete(b.m, k)
	b.mu.Unlock()
}

// ops is the byte-level work both sides do in the benchmarks.
type ops interface {
	get(id, key string) []byte
	set(id, key string, v []byte)
	del(id, key string)
}

type storeOps struct{ s *memory.Store }

func (o storeOps) get(id, key string) []byte {
	v, _ := o.s.Get(context.Background(), id, key)
	return v
}
func (o storeOps) set(id, key string, v []byte) {
	o.s.Save(context.Background(), id, session.Field{Key: key, Value: v})
}
func (o storeOps) del(id, key string) { o.s.Evict(context.Background(), id, key) }

func newBenchStore(b *testing.B) *memory.Store {
	s, err := memory.New(memory.Config{SweepInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(context.Background()) })
	return s
}

const benchSessions = 10_000

var chatKeys = []string{"stage", "prev_stage", "last_activity", "debounce", "last_msg_id",
	"msg_history", "checkpoint", "retry", "auth", "auth_expiry", "name", "number", "lang", "menu"}

func chatValue(key string) []byte {
	switch key {
	case "msg_history":
		return []byte(`[` + strings.Repeat(`"wamid.HBgMMjYzNzcxMjM0NTY3FQIAEhgUM0E5RkIxNjJDMjRGOUZEQjYyRTMA",`, 20) + `"x"]`)
	case "auth":
		return []byte(`{"token":"` + strings.Repeat("t", 120) + `","user":"263771234567","role":"customer"}`)
	case "last_msg_id":
		return []byte(`"wamid.HBgMMjYzNzcxMjM0NTY3FQIAEhgUM0E5RkIxNjJDMjRGOUZEQjYyRTMA"`)
	case "last_activity":
		return []byte(`"2026-11-26T14:15:54.123456"`)
	default:
		return []byte(`"` + key + `-value-0123456789"`)
	}
}

func preload(o ops) []string {
	ids := make([]string, benchSessions)
	for i := range ids {
		ids[i] = fmt.Sprintf("2637%08d", i)
		for _, k := range chatKeys {
			o.set(ids[i], k, chatValue(k))
		}
	}
	return ids
}

func benchBoth(b *testing.B, fn func(b *testing.B, o ops, ids []string)) {
	b.Run("memory", func(b *testing.B) {
		o := storeOps{newBenchStore(b)}
		fn(b, o, preload(o))
	})
	b.Run("baseline", func(b *testing.B) {
		o := newBaseline()
		fn(b, o, preload(o))
	})
}

// parallel runs body in b.RunParallel after resetting the timer, reporting
// allocations; each goroutine gets its own generator of stream.
func parallel(b *testing.B, stream uint64, body func(r *rand.Rand, pb *testing.PB)) {
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) { body(rand.New(rand.NewPCG(seed.Add(1), stream)), pb) })
}

// BenchmarkGet reads one 30-byte key of a 14-key session, in parallel.
func BenchmarkGet(b *testing.B) {
	benchBoth(b, func(b *testing.B, o ops, ids []string) {
		parallel(b, 1, func(r *rand.Rand, pb *testing.PB) {
			for pb.Next() {
				if o.get(ids[r.IntN(len(ids))], "stage") == nil {
					b.Error("missing")
					return
				}
			}
		})
	})
}

// BenchmarkSave overwrites one key of a 14-key session, in parallel.
func BenchmarkSave(b *testing.B) {
	benchBoth(b, func(b *testing.B, o ops, ids []string) {
		v := chatValue("stage")
		parallel(b, 2, func(r *rand.Rand, pb *testing.PB) {
			for pb.Next() {
				o.set(ids[r.IntN(len(ids))], "stage", v)
			}
		})
	})
}

// BenchmarkChatbot runs whole messages of the chatbot workload (WORKLOAD.md):
// 14 reads and 7 writes or evictions on one user's session per message, on
// Zipf-skewed users. One op of the benchmark is one message.
func BenchmarkChatbot(b *testing.B) {
	benchBoth(b, func(b *testing.B, o ops, ids []string) {
		parallel(b, 3, func(r *rand.Rand, pb *testing.PB) {
			z := rand.NewZipf(r, 1.1, 1, uint64(len(ids)-1))
			for pb.Next() {
				id := ids[z.Uint64()]
				for i := 0; i < 14; i++ {
					o.get(id, chatKeys[i])
				}
				for i := 0; i < 6; i++ {
					k := chatKeys[(i*5)%len(chatKeys)]
					o.set(id, k, chatValue(k))
				}
				o.del(id, "retry")
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// BenchmarkMemoryPerSession loads sessions of 5 keys × 100-byte values (the
// shape of issue 2's memory target) and reports heap bytes held per session
// against the payload (id + keys + values). Run with -benchtime=1x; the
// session count is set by -sessions (default 1,000,000).
func BenchmarkMemoryPerSession(b *testing.B) {
	for _, shape := range []struct {
		name  string
		whole bool
	}{
		{"memory", false},         // one Save per field: the block grows
		{"memory/one-save", true}, // all five in one Save (HSET's shape in memory-compare.sh)
	} {
		b.Run(shape.name, func(b *testing.B) {
			s := newBenchStore(b)
			measure(b, shape.whole, func(id string, kvs []session.Field) {
				s.Save(context.Background(), id, kvs...)
			}, func() {
				if st := s.Stats(); st.Sessions != *memSessions {
					b.Fatalf("held %d sessions", st.Sessions)
				}
			})
		})
	}
}

// measure saves the sessions, one field per call or all of them in one
// call (whole), then overwrites every one, and reports the heap held.
func measure(b *testing.B, whole bool, save func(id string, kvs []session.Field), check func()) {
	n := *memSessions
	val := []byte(strings.Repeat("v", 100))
	var kvs []session.Field
	for _, k := range []string{"field:1", "field:2", "field:3", "field:4", "field:5"} {
		kvs = append(kvs, session.Field{Key: k, Value: val})
	}
	payload := 0
	load := func() {
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("session:%012d", i)
			if whole {
				save(id, kvs)
				continue
			}
			for j := range kvs {
				save(id, kvs[j:j+1])
			}
		}
	}
	before := heap()
	load()
	loaded := heap() - before
	// Overwrite every session once: memory must not grow.
	load()
	overwritten := heap() - before
	check()
	for range n {
		payload += len("session:000000000000")
		for _, kv := range kvs {
			payload += len(kv.Key) + len(kv.Value)
		}
	}
	b.ReportMetric(float64(loaded)/float64(n), "B/session")
	b.ReportMetric(float64(payload)/float64(n), "payload-B/session")
	b.ReportMetric(float64(loaded)/float64(payload), "x-payload")
	b.ReportMetric(float64(overwritten)/float64(loaded), "x-after-overwrite")
}

func heap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
