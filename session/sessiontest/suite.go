package sessiontest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// Env is what the suite gives the factory for each subtest.
type Env struct {
	// Now is the clock the store must read time from. Under the fake clock
	// it is the suite's Clock.Now; with Options.RealClock it is time.Now.
	// It is never nil, so factories can wire it into Config.Now as is.
	Now func() time.Time
	// Advance moves the fake clock forward; nil with Options.RealClock.
	// Factories rarely need it: the suite moves the clock itself.
	Advance func(d time.Duration)
	// DefaultIdle is the idle timeout the store must give new sessions.
	DefaultIdle time.Duration
}

// Options adjust the suite to what a backend can do.
type Options struct {
	// RealClock runs the expiry rules on real time, for backends that cannot
	// read a fake clock (redis-server, a remote grid). The idle timeout is
	// then short (300 ms); those rules sleep a little and poll.
	RealClock bool
	// SkipSweep skips the rules about session.Sweeper even when the store
	// implements it (a store whose sweep cannot be counted in isolation).
	SkipSweep bool
}

// Timing of the two clock modes.
const (
	// FakeIdle is Env.DefaultIdle under the fake clock: the WCE default.
	FakeIdle = 30 * time.Minute
	// RealIdle is Env.DefaultIdle with Options.RealClock in the rules about
	// expiry (the others get an hour, so that a slow backend does not see
	// sessions expire in the middle of them).
	RealIdle = 300 * time.Millisecond

	fakeMargin = time.Second
	realMargin = RealIdle / 5
	// realUntimedIdle is the idle timeout of rules that are not about
	// expiry under the real clock: long enough that no rule reaches it.
	realUntimedIdle = time.Hour
	// realTries bounds the attempts of a real-clock rule whose timing was
	// too loose to judge (see runTimed).
	realTries = 3
	// realPoll bounds how long a real-clock rule polls for an outcome once
	// its deadline has passed.
	realPoll = 2 * time.Second
)

// Run runs the whole conformance suite against managers made by newManager,
// under the fake clock. See the package documentation for what the factory
// must do.
func Run(t *testing.T, newManager func(t *testing.T, env Env) session.Manager) {
	t.Helper()
	RunWith(t, Options{}, newManager)
}

// RunWith is Run with options, for backends that need real time or cannot
// count sweeps.
func RunWith(t *testing.T, opts Options, newManager func(t *testing.T, env Env) session.Manager) {
	t.Helper()
	if newManager == nil {
		t.Fatal("sessiontest: newManager is nil")
	}
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			for _, r := range g.rules {
				t.Run(r.name, func(t *testing.T) {
					if g.skip != nil {
						if why := g.skip(opts); why != "" {
							t.Skip(why)
						}
					}
					if opts.RealClock && g.timed {
						runTimed(t, opts, r, newManager)
						return
					}
					r.run(newFixture(t, opts, g.timed, newManager))
				})
			}
		})
	}
}

// runTimed runs an expiry rule on the real clock. A check that must hold
// before a deadline but failed after it (the machine was too slow, a sleep
// overshot) proves nothing, so the attempt is dropped (skipped) and the rule
// runs again on a fresh manager, up to realTries times. Each attempt is a
// subtest of its own (try1, try2...) so that factories keyed on t.Name()
// start empty.
func runTimed(t *testing.T, opts Options, r rule, newManager func(*testing.T, Env) session.Manager) {
	t.Helper()
	var late string
	for try := 1; try <= realTries; try++ {
		late = ""
		t.Run(fmt.Sprintf("try%d", try), func(t *testing.T) {
			f := newFixture(t, opts, true, newManager)
			f.onLate = func(msg string) {
				t.Helper()
				late = msg
				t.Skipf("inconclusive, trying again: %s", msg)
			}
			r.run(f)
		})
		if late == "" {
			return
		}
	}
	t.Fatalf("real clock: %d attempts were all too slow to judge the rule; last: %s", realTries, late)
}

// rule is one named requirement of the contract, run on a fresh manager.
type rule struct {
	name string
	run  func(f *fixture)
}

// group is a named set of rules (the first level of subtests).
type group struct {
	name  string
	rules []rule
	// skip, when set, returns why the group does not apply under opts.
	skip func(opts Options) string
	// timed groups are about expiry: under the real clock they get the
	// short RealIdle; the others get an idle timeout they cannot reach.
	timed bool
}

// groups lists the suite, in the order it runs.
func groups() []group {
	return []group{
		{name: "Handle", rules: handleRules()},
		{name: "Data", rules: dataRules()},
		{name: "Missing", rules: missingRules()},
		{name: "Evict", rules: evictRules()},
		{name: "Clear", rules: clearRules()},
		{name: "Props", rules: propRules()},
		{name: "Globals", rules: globalRules()},
		{name: "ValueSemantics", rules: valueRules()},
		{name: "Concurrency", rules: concurrencyRules()},
		{name: "Expiry", rules: expiryRules(), timed: true},
		{name: "Sweep", rules: sweepRules(), timed: true, skip: func(o Options) string {
			if o.SkipSweep {
				return "Options.SkipSweep"
			}
			return ""
		}},
		{name: "Bounds", rules: boundRules()},
		{name: "Names", rules: nameRules()},
		{name: "Codec", rules: codecRules()},
		{name: "Store", rules: storeRules()},
		{name: "Close", rules: closeRules()},
	}
}

// newFixture builds the manager of one subtest and registers its Close.
func newFixture(t *testing.T, opts Options, timed bool, newManager func(*testing.T, Env) session.Manager) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: t.Context()}
	env := Env{}
	if opts.RealClock {
		f.idle, f.margin = RealIdle, realMargin
		if !timed {
			f.idle = realUntimedIdle
		}
		env.Now = time.Now
	} else {
		f.idle, f.margin = FakeIdle, fakeMargin
		f.clock = NewClock(time.Date(2026, time.January, 2, 3, 4, 5, 0, time.UTC))
		env.Now, env.Advance = f.clock.Now, f.clock.Advance
	}
	env.DefaultIdle = f.idle
	f.m = newManager(t, env)
	if f.m == nil {
		t.Fatal("sessiontest: newManager returned nil")
	}
	m := f.m
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("Close at the end of the subtest: %v", err)
		}
	})
	return f
}
