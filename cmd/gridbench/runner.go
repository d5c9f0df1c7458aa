package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// options are the settings of one invocation (from the flags).
type options struct {
	Targets  []targetSpec
	Workload workload
	// Populations overrides Workload.Sessions per target name or kind
	// (-population).
	Populations map[string]int
	Clients     int
	Duration    time.Duration // measured time per target, over all rounds
	Messages    int64         // messages per target, over all rounds (instead of Duration)
	Rounds      int
	Warmup      time.Duration // per round
	Seed        uint64
	Preload     bool
	Cleanup     bool
	Password    string
	RESP        int
	Timeout     time.Duration
	RedisIdle   time.Duration
	MaxErrors   int64
	Progress    bool
	JSONPath    string
	// CPUProfile is a file for a CPU profile of the whole invocation.
	CPUProfile string
	Verbose    bool
	Logger     *slog.Logger // for the remote client
}

// counters are shared by the clients of a round, for progress and stopping.
type counters struct {
	messages atomic.Int64
	ops      atomic.Int64
	errors   atomic.Int64
	tickets  atomic.Int64 // messages handed out, with -messages

	errOnce  sync.Once
	firstErr error
}

// clientState is what one client goroutine measured in a round.
type clientState struct {
	rec      recorder
	messages uint64 // measured messages
	ops      uint64 // measured operations
	redraws  uint64
	users    map[int]struct{} // distinct users measured
}

// bench is one target under measurement, accumulated over its rounds.
type bench struct {
	t        *target
	w        *workload   // the workload with this target's population
	pop      *population // the target's own users: targets on one server never share keys
	rec      recorder
	users    map[int]struct{}
	res      result
	selfCPU  time.Duration
	srvCPU   time.Duration
	srvOK    bool // every round read the server's CPU time
	firstErr error
}

// newBench opens spec's target for the population of w and pop, and
// preloads it.
func newBench(ctx context.Context, spec targetSpec, o options, w *workload, pop *population, progress io.Writer) (*bench, error) {
	t, err := openTarget(ctx, spec, o, w.Sessions)
	if err != nil {
		return nil, err
	}
	b := &bench{t: t, w: w, pop: pop, users: make(map[int]struct{}), srvOK: true}
	b.res = result{Target: spec.Label, Kind: spec.Kind, Addr: spec.Addr, Path: spec.Path, Clients: o.Clients,
		Sessions: w.Sessions, Settings: t.settings}
	if o.Preload {
		start := time.Now()
		err := t.preload(ctx, w, pop, o.Seed, preloadWorkers(o), o)
		if err == nil {
			err = t.ready(ctx)
		}
		if err != nil {
			b.finish(o)
			return nil, fmt.Errorf("%s: preload: %w", spec.Label, err)
		}
		b.res.PreloadSeconds = time.Since(start).Seconds()
		if progress != nil {
			fmt.Fprintf(progress, "[%s] preloaded %d sessions in %.1fs\n", spec.Label, len(pop.ids), b.res.PreloadSeconds)
		}
	}
	return b, nil
}

// preloadWorkers is the number of goroutines filling or emptying a store.
func preloadWorkers(o options) int { return min(o.Clients, 8) }

// finish deletes the benchmark's sessions (with -cleanup) and closes the
// target.
func (b *bench) finish(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b.res.Notes = b.t.notes()
	var err error
	if o.Cleanup {
		if err = b.t.cleanup(ctx, b.pop, preloadWorkers(o)); err != nil {
			err = fmt.Errorf("%s: cleanup: %w", b.t.spec.Label, err)
		}
	}
	if cerr := b.t.close(ctx); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// round runs the workload once against the target, for duration (or for
// messages messages when messages > 0), and adds what it measured.
func (b *bench) round(ctx context.Context, o options, duration time.Duration, messages int64, progress io.Writer) error {
	t, pop := b.t, b.pop
	// Every round draws other users and message ids; every target sees the
	// same sequence in the same round.
	seed := o.Seed*1_000_003 + uint64(b.res.Rounds)<<32
	label := t.spec.Label
	if o.Rounds > 1 {
		label = fmt.Sprintf("%s round %d/%d", label, b.res.Rounds+1, o.Rounds)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var c counters
	states := make([]*clientState, o.Clients)
	start := time.Now()
	measureFrom := start
	var end time.Time
	if messages <= 0 {
		measureFrom = start.Add(o.Warmup)
		end = measureFrom.Add(duration)
	}
	pid := t.serverPID(ctx)
	var cpuMu sync.Mutex // guards the CPU marks, taken by the first client past warm-up
	var selfAt, srvAt time.Duration
	srvOK := false
	var markOnce sync.Once
	mark := func() {
		markOnce.Do(func() {
			cpuMu.Lock()
			defer cpuMu.Unlock()
			selfAt = selfCPU()
			if pid > 0 {
				if v, err := processCPU(pid); err == nil {
					srvAt, srvOK = v, true
				}
			}
		})
	}
	if !measureFrom.After(start) {
		mark()
	}

	var wg sync.WaitGroup
	for i := range o.Clients {
		st := &clientState{users: make(map[int]struct{})}
		states[i] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			runClient(runCtx, cancel, t, o, b.w, pop, seed+uint64(i), messages, st, &c, measureFrom, end, mark)
		}()
	}
	stopProgress := make(chan struct{})
	var pwg sync.WaitGroup
	if progress != nil {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			reportProgress(progress, label, &c, start, stopProgress)
		}()
	}
	wg.Wait()
	finished := time.Now()
	selfEnd := selfCPU()
	var srvEnd time.Duration
	if srvOK {
		if v, err := processCPU(pid); err == nil {
			srvEnd = v
		} else {
			srvOK = false
		}
	}
	close(stopProgress)
	pwg.Wait()

	if c.firstErr != nil && b.firstErr == nil {
		b.firstErr = c.firstErr
	}
	if c.errors.Load() > o.MaxErrors {
		return fmt.Errorf("%s: stopped after %d errors; first: %w", t.spec.Label, c.errors.Load(), c.firstErr)
	}
	r := &b.res
	r.Errors += uint64(c.errors.Load())
	r.Rounds++
	r.Seconds += finished.Sub(measureFrom).Seconds()
	var msgs uint64
	for _, st := range states {
		b.rec.merge(&st.rec)
		msgs += st.messages
		r.Ops += st.ops
		r.Redraws += st.redraws
		for u := range st.users {
			b.users[u] = struct{}{}
		}
	}
	r.Messages += msgs
	cpuMu.Lock()
	b.selfCPU += selfEnd - selfAt
	b.srvCPU += srvEnd - srvAt
	b.srvOK = b.srvOK && srvOK
	if srvOK {
		r.ServerPID = pid
	}
	cpuMu.Unlock()
	return ctx.Err()
}

// result returns the figures accumulated over the rounds.
func (b *bench) result() *result {
	r := b.res
	r.DistinctUsers = len(b.users)
	if b.firstErr != nil {
		r.FirstError = b.firstErr.Error()
	}
	if r.Seconds > 0 {
		r.MessagesPerSec = float64(r.Messages) / r.Seconds
		r.OpsPerSec = float64(r.Ops) / r.Seconds
	}
	if r.Messages > 0 {
		r.OpsPerMessage = float64(r.Ops) / float64(r.Messages)
		r.ClientCPUPerMessage = micros(b.selfCPU / time.Duration(r.Messages))
		if b.srvOK && r.ServerPID > 0 {
			r.ServerCPUPerMessage = micros(b.srvCPU / time.Duration(r.Messages))
			r.ServerCPUPerOp = micros(b.srvCPU / time.Duration(r.Ops))
		} else {
			r.ServerPID = 0
		}
	}
	r.Message = statsOf(&b.rec.msg)
	r.PerOp = make(map[string]latency, numOps)
	for k := range numOps {
		if h := &b.rec.ops[k]; h.n > 0 || b.rec.errs[k] > 0 {
			l := statsOf(h)
			l.Errors = b.rec.errs[k]
			r.PerOp[k.String()] = l
		}
	}
	return &r
}

// runClient is one simulated bot worker: it takes a ready user, processes
// one message of it, and repeats until the round ends.
func runClient(ctx context.Context, cancel context.CancelFunc, t *target, o options, w *workload, pop *population,
	seed uint64, messages int64, st *clientState, c *counters, measureFrom, end time.Time, mark func()) {
	e := newEngine(w, t.backend, seed)
	ch := pop.chooser(e.rng, w.Zipf)
	for ctx.Err() == nil {
		if messages > 0 && c.tickets.Add(1) > messages {
			return
		}
		now := time.Now()
		if !end.IsZero() && !now.Before(end) {
			return
		}
		measuring := !now.Before(measureFrom)
		if measuring {
			mark()
			e.rec = &st.rec
		} else {
			e.rec = nil
		}
		user, redraws := ch.next()
		start := time.Now()
		ops, err := e.message(ctx, user, pop.ids[user])
		took := time.Since(start)
		pop.done(user)
		c.ops.Add(int64(ops))
		if err != nil {
			if ctx.Err() != nil {
				return // the round was stopped: not the store's fault
			}
			c.errOnce.Do(func() { c.firstErr = err })
			if c.errors.Add(1) > o.MaxErrors {
				cancel()
				return
			}
			continue
		}
		c.messages.Add(1)
		if measuring {
			st.rec.msg.record(took)
			st.messages++
			st.ops += uint64(ops)
			st.redraws += uint64(redraws)
			st.users[user] = struct{}{}
		}
	}
}

// reportProgress prints one line a second until stop is closed.
func reportProgress(w io.Writer, label string, c *counters, start time.Time, stop <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastMsgs, lastOps int64
	last := start
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			msgs, ops := c.messages.Load(), c.ops.Load()
			dt := now.Sub(last).Seconds()
			fmt.Fprintf(w, "[%s] %4.0fs  %9.0f msg/s  %10.0f ops/s  errors %d\n",
				label, now.Sub(start).Seconds(), float64(msgs-lastMsgs)/dt, float64(ops-lastOps)/dt, c.errors.Load())
			lastMsgs, lastOps, last = msgs, ops, now
		}
	}
}
