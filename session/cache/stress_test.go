package cache_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/cache"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// TestAccountingUnderStress runs every kind of write from several
// goroutines on a small cache, with the clock moving so that sessions also
// expire, then checks that the counters agree with what can be read: the
// number of sessions, the bytes held, and evictions + expirations + removals
// covering every session that went away.
func TestAccountingUnderStress(t *testing.T) {
	for _, bound := range []string{"sessions", "bytes"} {
		t.Run(bound, func(t *testing.T) {
			ctx := context.Background()
			clk := storetest.NewClock()
			cfg := cache.Config{DefaultIdle: time.Minute, Now: clk.Now}
			if bound == "sessions" {
				cfg.MaxSessions = 50
			} else {
				cfg.MaxBytes = 4000
			}
			s := newStore(t, cfg)
			const ids, workers, ops = 200, 6, 3000
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for range ops {
						id := fmt.Sprintf("u%d", r.IntN(ids))
						key := fmt.Sprintf("k%d", r.IntN(4))
						val := make([]byte, r.IntN(40))
						var err error
						switch r.IntN(9) {
						case 0, 1:
							_, err = s.Save(ctx, id, session.Field{Key: key, Value: val})
						case 2:
							err = s.SaveProp(ctx, id, key, val)
						case 3:
							_, err = s.Evict(ctx, id, key)
						case 4:
							_, err = s.EvictProp(ctx, id, key)
						case 5:
							_, err = s.Clear(ctx, id, key)
						case 6:
							err = s.SetExpiry(ctx, id, session.Expiry{Idle: time.Duration(r.IntN(3)+1) * 20 * time.Second})
							if err != nil && errorsIsNotFound(err) {
								err = nil
							}
						case 7:
							_, err = s.GetAll(ctx, id)
						case 8:
							if w == 0 {
								clk.Advance(time.Second)
							}
							_, err = s.Props(ctx, id)
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if _, err := s.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			s.CleanUp()
			var live int
			var bytes int64
			for i := range ids {
				id := fmt.Sprintf("u%d", i)
				data, _ := s.GetAll(ctx, id)
				props, _ := s.Props(ctx, id)
				if len(data)+len(props) == 0 {
					continue
				}
				live++
				bytes += int64(len(id))
				for k, v := range data {
					bytes += int64(len(k) + len(v))
				}
				for k, v := range props {
					bytes += int64(len(k) + len(v))
				}
			}
			st := s.Stats()
			if st.Sessions != live || st.Bytes != bytes {
				t.Fatalf("Stats = %+v; readable: %d sessions, %d bytes", st, live, bytes)
			}
			if bound == "sessions" && live > 50 || bound == "bytes" && bytes > 4000 {
				t.Fatalf("%d sessions, %d bytes: over the bound", live, bytes)
			}
			if st.Evictions == 0 || st.Expirations == 0 {
				t.Fatalf("Stats = %+v: the test should have caused evictions and expirations", st)
			}
		})
	}
}

func errorsIsNotFound(err error) bool { return errors.Is(err, session.ErrNotFound) }
