package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The workload is what a fleet of chatbot instances does to the grid: each
// worker is one bot instance bound to one member, and every member has
// workers at once. Its operations and their outcomes are recorded as a
// history for the checkers (check_test.go).

// Operation kinds.
const (
	opHSet   = "hset"   // HSET session field value: the register (session, field) := value
	opHGet   = "hget"   // HGET session field
	opDel    = "del"    // DEL session: every field of the session := absent
	opNew    = "new"    // HSET new-session v value: a session written once
	opGSet   = "gset"   // GLOBAL.SET key value
	opGGet   = "gget"   // GLOBAL.GET key
	opNewGet = "newget" // HGET new-session v (the final set check)
)

// fields are the fields of a workload session (as a bot keeps "stage",
// "lang" and "cart").
var fields = []string{"stage", "lang", "cart"}

// outcome of an operation.
type outcome int

const (
	ok      outcome = iota // acknowledged (or read) with a reply
	failed                 // certainly not applied (the connection was never made)
	unknown                // error or timeout: may or may not have been applied
)

// op is one operation of the history.
type op struct {
	Client  int    // porcupine client id: fresh after every unknown outcome
	Member  string // the member the worker sent it to
	Kind    string
	Key     string // session id or global key
	Field   int    // index in fields (hset, hget)
	Value   string // written value (hset, new, gset)
	Call    int64  // ns since the workload started
	Return  int64  // ns since the workload started
	Outcome outcome
	Read    string // value read ("" = absent) for reads
	N       int64  // integer reply of HSET (fields added) and DEL (keys removed)
	Err     string
}

// workloadConfig sizes a workload.
type workloadConfig struct {
	Sessions         int           // bounded set of sessions the registers live in
	Globals          int           // global keys
	WorkersPerMember int           // concurrent bot instances per member
	Pace             time.Duration // pause between one worker's operations
	GlobalShare      float64       // share of global operations
	NewShare         float64       // share of new-session writes
	DelShare         float64       // share of DELs
}

func defaultWorkload() workloadConfig {
	return workloadConfig{Sessions: 30, Globals: 3, WorkersPerMember: 2, Pace: 15 * time.Millisecond,
		GlobalShare: 0.10, NewShare: 0.10, DelShare: 0.03}
}

// workload runs workers until stopped and records their history.
type workload struct {
	cfg    workloadConfig
	c      *cluster
	start  time.Time
	prefix string

	mu      sync.Mutex // guards history and nextID
	history []op
	nextID  int

	stop chan struct{}
	wg   sync.WaitGroup
}

// startWorkload starts the workers on every member of c.
func startWorkload(c *cluster, cfg workloadConfig) *workload {
	w := &workload{cfg: cfg, c: c, start: time.Now(), stop: make(chan struct{}),
		prefix: fmt.Sprintf("chaos%d", rand.IntN(1e6))}
	n := 0
	for _, m := range c.services {
		for i := 0; i < cfg.WorkersPerMember; i++ {
			w.wg.Add(1)
			go w.worker(n, m)
			n++
		}
	}
	return w
}

func (w *workload) now() int64 { return int64(time.Since(w.start)) }

func (w *workload) session(i int) string { return fmt.Sprintf("%s:s%d", w.prefix, i) }
func (w *workload) global(i int) string  { return fmt.Sprintf("%s:g%d", w.prefix, i) }

func (w *workload) clientID() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nextID++
	return w.nextID - 1
}

func (w *workload) record(o op) {
	w.mu.Lock()
	w.history = append(w.history, o)
	w.mu.Unlock()
}

// runner is a running workload: the Go one here, or the Python one
// (python_test.go).
type runner interface {
	// Stop stops the workers, waits for them and returns the history.
	Stop() ([]op, error)
	// finalReads reads back what the history wrote (see workload.finalReads).
	finalReads(members []string, history []op) []op
}

// Stop stops the workers, waits for them and returns the history.
func (w *workload) Stop() ([]op, error) {
	close(w.stop)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]op(nil), w.history...), nil
}

// classify turns an error into an outcome: a connection that was never
// made applied nothing; anything else (a timeout, a reset, an error reply
// such as UNAVAILABLE) may or may not have applied the command.
func classify(err error) outcome {
	if err == nil || errors.Is(err, redis.Nil) {
		return ok
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return failed
	}
	return unknown
}

func (w *workload) worker(n int, member string) {
	defer w.wg.Done()
	r := redis.NewClient(w.c.clientOptions(member))
	defer r.Close()
	rng := rand.New(rand.NewPCG(uint64(n), uint64(time.Now().UnixNano())))
	client := w.clientID()
	seq := 0
	for {
		select {
		case <-w.stop:
			return
		case <-time.After(w.cfg.Pace):
		}
		seq++
		o := op{Client: client, Member: member}
		value := fmt.Sprintf("w%d-%d", n, seq)
		x := rng.Float64()
		switch {
		case x < w.cfg.GlobalShare:
			o.Key = w.global(rng.IntN(w.cfg.Globals))
			if rng.IntN(2) == 0 {
				o.Kind, o.Value = opGSet, value
			} else {
				o.Kind = opGGet
			}
		case x < w.cfg.GlobalShare+w.cfg.NewShare:
			o.Kind, o.Key, o.Value = opNew, fmt.Sprintf("%s:new:%d:%d", w.prefix, n, seq), value
		case x < w.cfg.GlobalShare+w.cfg.NewShare+w.cfg.DelShare:
			o.Kind, o.Key = opDel, w.session(rng.IntN(w.cfg.Sessions))
		default:
			o.Key, o.Field = w.session(rng.IntN(w.cfg.Sessions)), rng.IntN(len(fields))
			if rng.IntN(5) < 2 {
				o.Kind, o.Value = opHSet, value
			} else {
				o.Kind = opHGet
			}
		}
		o = w.do(r, o)
		w.record(o)
		if o.Outcome == unknown {
			client = w.clientID() // the open-ended operation keeps its client id
		}
	}
}

// do runs o against r and fills in its times and outcome.
func (w *workload) do(r *redis.Client, o op) op {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	o.Call = w.now()
	var err error
	switch o.Kind {
	case opHSet:
		o.N, err = r.HSet(ctx, o.Key, fields[o.Field], o.Value).Result()
	case opNew:
		o.N, err = r.HSet(ctx, o.Key, "v", o.Value).Result()
	case opHGet:
		o.Read, err = r.HGet(ctx, o.Key, fields[o.Field]).Result()
	case opNewGet:
		o.Read, err = r.HGet(ctx, o.Key, "v").Result()
	case opDel:
		o.N, err = r.Del(ctx, o.Key).Result()
	case opGSet:
		err = r.Do(ctx, "GLOBAL.SET", o.Key, o.Value).Err()
	case opGGet:
		o.Read, err = r.Do(ctx, "GLOBAL.GET", o.Key).Text()
	}
	o.Return = w.now()
	o.Outcome = classify(err)
	if errors.Is(err, redis.Nil) {
		o.Read = ""
	}
	if err != nil && o.Outcome != ok {
		o.Err = err.Error()
	}
	return o
}

// finalReads reads every register the history wrote and every new session
// it acknowledged, from every given member, once the workload has stopped;
// the reads are recorded as operations of their own clients.
func (w *workload) finalReads(members []string, history []op) []op {
	var keys []op
	seen := map[string]bool{}
	for _, o := range history {
		var k op
		switch o.Kind {
		case opHSet, opHGet:
			k = op{Kind: opHGet, Key: o.Key, Field: o.Field}
		case opGSet, opGGet:
			k = op{Kind: opGGet, Key: o.Key}
		case opNew:
			if o.Outcome != ok {
				continue
			}
			k = op{Kind: opNewGet, Key: o.Key}
		default:
			continue
		}
		id := k.Kind + "\x00" + k.Key + "\x00" + strconv.Itoa(k.Field)
		if !seen[id] {
			seen[id] = true
			keys = append(keys, k)
		}
	}
	var out []op
	for _, m := range members {
		r := redis.NewClient(w.c.clientOptions(m))
		client := w.clientID()
		for _, k := range keys {
			k.Member, k.Client = m, client
			// A failed read tells nothing and changes nothing: try again
			// (twice) before calling the value unreadable.
			o := w.do(r, k)
			for try := 0; try < 2 && o.Outcome != ok; try++ {
				o = w.do(r, k)
			}
			out = append(out, o)
		}
		r.Close()
	}
	return out
}
