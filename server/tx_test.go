package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/internal/testrun"
)

// WATCH sees a key expire between WATCH and EXEC (the store's clock is
// the test's).
func TestTxWatchExpiry(t *testing.T) {
	n := startNode(t, Config{})
	c := dialRESP(t, "tcp", n.addr)
	steps := []struct{ cmd, want string }{
		{"set k v px 1000", "+OK\r\n"},
		{"watch k", "+OK\r\n"},
	}
	for _, s := range steps {
		if got := c.do(strings.Fields(s.cmd)...); got != s.want {
			t.Fatalf("%s: %q, want %q", s.cmd, got, s.want)
		}
	}
	n.clock.Advance(2 * time.Second) // k expires; nobody wrote it
	for _, s := range []struct{ cmd, want string }{
		{"multi", "+OK\r\n"},
		{"set j 1", "+QUEUED\r\n"},
		{"exec", "*-1\r\n"},
		{"get j", "$-1\r\n"}, // the transaction did not run
		// A key that did not exist at WATCH and still does not: runs.
		{"watch k", "+OK\r\n"},
		{"multi", "+OK\r\n"},
		{"set j 1", "+QUEUED\r\n"},
		{"exec", "*1\r\n+OK\r\n"},
		// A session's idle timeout counts as expiry too.
		{"hset s f v", ":1\r\n"},
		{"session.expiry s 1000 0", ":1\r\n"},
		{"watch s", "+OK\r\n"},
	} {
		if got := c.do(strings.Fields(s.cmd)...); got != s.want {
			t.Fatalf("%s: %q, want %q", s.cmd, got, s.want)
		}
	}
	n.clock.Advance(2 * time.Second)
	c.do("multi")
	if got := c.do("exec"); got != "*-1\r\n" {
		t.Fatalf("EXEC after the watched session idled out: %q", got)
	}
}

// A write by another client between WATCH and EXEC aborts the EXEC, over
// RESP2 and RESP3, and a write of another key does not.
func TestTxWatchOtherClient(t *testing.T) {
	protocols(t, func(t *testing.T, proto int) {
		n := startNode(t, Config{})
		ctx := context.Background()
		a, b := n.client(t, proto), n.client(t, proto)
		a.Set(ctx, "w", "1", 0)
		err := a.Watch(ctx, func(tx *redis.Tx) error {
			if err := b.Set(ctx, "w", "2", 0).Err(); err != nil {
				return err
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "w", "3", 0)
				return nil
			})
			return err
		}, "w")
		if !errors.Is(err, redis.TxFailedErr) {
			t.Fatalf("Watch after another client's write: %v, want TxFailedErr", err)
		}
		if v := a.Get(ctx, "w").Val(); v != "2" {
			t.Fatalf("w = %q, want 2 (the aborted transaction must not write)", v)
		}
		err = a.Watch(ctx, func(tx *redis.Tx) error {
			b.Set(ctx, "other", "x", 0)
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "w", "4", 0)
				return nil
			})
			return err
		}, "w")
		if err != nil {
			t.Fatalf("Watch with another key written: %v", err)
		}
		if v := a.Get(ctx, "w").Val(); v != "4" {
			t.Fatalf("w = %q, want 4", v)
		}
	})
}

// go-redis's TxPipelined (MULTI/EXEC) and Watch with retries on
// TxFailedErr: concurrent read-modify-write loses no increment.
func TestTxGoRedisWatchContention(t *testing.T) {
	n := startNode(t, Config{})
	ctx := context.Background()
	const workers, each = 6, 40
	var retries sync.Map
	testrun.Concurrently(t, workers, func(w int) error {
		c := redis.NewClient(&redis.Options{Addr: n.addr, Protocol: 2 + w%2, PoolSize: 1})
		defer c.Close()
		for range each {
			for attempt := 0; ; attempt++ {
				err := c.Watch(ctx, func(tx *redis.Tx) error {
					v, err := tx.Get(ctx, "counter").Int()
					if err != nil && !errors.Is(err, redis.Nil) {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, "counter", v+1, 0)
						p.HSet(ctx, "log", "last", v+1) // a second key in the unit
						return nil
					})
					return err
				}, "counter")
				if err == nil {
					break
				}
				if !errors.Is(err, redis.TxFailedErr) {
					return err
				}
				retries.Store(w, attempt+1)
			}
		}
		return nil
	})
	c := n.client(t, 2)
	if got, _ := c.Get(ctx, "counter").Int(); got != workers*each {
		t.Fatalf("counter = %d, want %d (lost increments)", got, workers*each)
	}
	aborted := 0
	retries.Range(func(_, _ any) bool { aborted++; return true })
	t.Logf("%d of %d workers had a transaction aborted by a concurrent write", aborted, workers)

	// TxPipelined: the replies of every command, a runtime error among them.
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "tp", "x", 0)
		p.Incr(ctx, "tp")
		p.Get(ctx, "tp")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "not an integer") {
		t.Fatalf("TxPipelined error = %v", err)
	}
	if len(cmds) != 3 || cmds[0].Err() != nil || cmds[1].Err() == nil || cmds[2].(*redis.StringCmd).Val() != "x" {
		t.Fatalf("TxPipelined replies: %v", cmds)
	}
}

// No command of another client runs between a transaction's commands.
func TestTxAtomic(t *testing.T) {
	n := startNode(t, Config{})
	ctx := context.Background()
	const rounds = 200
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var torn error
	var mu sync.Mutex
	// The transaction writes a and b together; readers must never see them
	// differ.
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := n.client(t, 2)
		for {
			select {
			case <-stop:
				return
			default:
			}
			vals, err := r.MGet(ctx, "a", "b").Result()
			if err != nil {
				mu.Lock()
				torn = err
				mu.Unlock()
				return
			}
			if fmt.Sprint(vals[0]) != fmt.Sprint(vals[1]) {
				mu.Lock()
				torn = fmt.Errorf("MGET a b = %v between a transaction's writes", vals)
				mu.Unlock()
				return
			}
		}
	}()
	w := n.client(t, 3)
	for i := range rounds {
		_, err := w.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "a", i, 0)
			p.Set(ctx, "b", i, 0)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if torn != nil {
		t.Fatal(torn)
	}
}

// redis-py's default pipeline() wraps MULTI/EXEC, and transaction(fn,
// key) retries WATCH under contention from several processes: no lost
// increment.
const pyTxScript = `
import sys, redis
port, password, worker = int(sys.argv[1]), (sys.argv[2] or None), sys.argv[3]
r = redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True)
p = r.pipeline()
p.set("py:tx:" + worker, "a").incr("py:tx:n:" + worker).get("py:tx:" + worker)
assert p.execute() == [True, 1, "a"]
p = r.pipeline()
p.set("py:tx:e:" + worker, "x").incr("py:tx:e:" + worker)
try:
    p.execute()
    raise SystemExit("no error")
except redis.ResponseError as e:
    assert "not an integer" in str(e), e
assert r.get("py:tx:e:" + worker) == "x"
aborted = 0
def incr(pipe):
    v = int(pipe.get("py:tx:counter") or 0)
    pipe.multi()
    pipe.set("py:tx:counter", v + 1)
for _ in range(50):
    r.transaction(incr, "py:tx:counter")
print("ok")
`

func TestTxRedisPy(t *testing.T) {
	py := requireRedisPy(t, "redis")
	withPasswords(t, func(t *testing.T, n *testNode, pw string) {
		const procs = 4
		runPythonProcs(t, py, procs, pyTxScript, n.port(), pw)
		c := n.client(t, 2, func(o *redis.Options) { o.Password = pw })
		if got, _ := c.Get(context.Background(), "py:tx:counter").Int(); got != procs*50 {
			t.Fatalf("counter = %d, want %d (lost increments)", got, procs*50)
		}
	})
}

// The errors as redis-cli prints them, compared with a real redis-server
// through the same redis-cli.
func TestTxRedisCLI(t *testing.T) {
	cli := requireTool(t, "redis-cli")
	sock := startRedisServer(t)
	n := startNode(t, Config{})
	host, port, _ := strings.Cut(n.addr, ":")
	in := "MULTI\nSET a 1\nFOO\nEXEC\nEXEC\nDISCARD\nMULTI\nMULTI\nWATCH a\nSET a x\nINCR a\nEXEC\n" +
		"WATCH a\nSET a 2\nMULTI\nGET a\nEXEC\nEXEC x\n"
	got := runTool(t, in, cli, "-h", host, "-p", port)
	want := runTool(t, in, cli, "-s", sock)
	if got != want {
		t.Fatalf("redis-cli printed\n%s\nwith redis-server\n%s", got, want)
	}
	for _, s := range []string{"EXECABORT", "MULTI calls can not be nested", "WATCH inside MULTI is not allowed", "not an integer"} {
		if !strings.Contains(got, s) {
			t.Errorf("redis-cli output lacks %q:\n%s", s, got)
		}
	}
}

// The queued commands of a transaction are bounded: past the bound the
// command is refused and EXEC aborts.
func TestTxQueueBound(t *testing.T) {
	n := startNode(t, Config{MaxRequestBytes: 4096, MaxValueSize: 1024})
	c := dialRESP(t, "tcp", n.addr)
	c.do("multi")
	v := strings.Repeat("x", 1000)
	for i := range 3 {
		if got := c.do("set", "k", v); got != "+QUEUED\r\n" {
			t.Fatalf("command %d: %q", i, got)
		}
	}
	if got := c.do("set", "k", v); !strings.HasPrefix(got, "-ERR transaction too large") {
		t.Fatalf("past the bound: %q", got)
	}
	if got := c.do("exec"); got != "-EXECABORT Transaction discarded because of previous errors.\r\n" {
		t.Fatalf("EXEC: %q", got)
	}
	if got := c.do("get", "k"); got != "$-1\r\n" {
		t.Fatalf("GET after the aborted transaction: %q", got)
	}
}

// failingBatcher is a backend whose batches never commit: their writes'
// outcome is unknown.
type failingBatcher struct {
	Backend
	mu      sync.Mutex
	batches int
}

func (b *failingBatcher) BeginBatch(ctx context.Context) (context.Context, func() error) {
	b.mu.Lock()
	b.batches++
	b.mu.Unlock()
	return ctx, func() error { return errors.New("the backups did not answer") }
}

// A transaction's writes replicate as one unit (one batch): when it does
// not commit, the writes' replies say their outcome is unknown, and the
// reads' replies stand.
func TestTxOneReplicationUnit(t *testing.T) {
	fb := &failingBatcher{}
	n := startNodeWith(t, func(b Backend) Backend { fb.Backend = b; return fb })
	c := dialRESP(t, "tcp", n.addr)
	c.do("set", "r", "before")
	fb.mu.Lock()
	fb.batches = 0
	fb.mu.Unlock()
	c.do("multi")
	c.do("get", "r")
	c.do("set", "a", "1")
	c.do("hset", "h", "f", "v")
	got := c.do("exec")
	if !strings.HasPrefix(got, "*3\r\n$6\r\nbefore\r\n-UNAVAILABLE ") || strings.Count(got, "-UNAVAILABLE") != 2 {
		t.Fatalf("EXEC = %q", got)
	}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.batches != 1 {
		t.Fatalf("%d batches for one transaction, want 1", fb.batches)
	}
}
