package sessiontest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// fixture is the state of one subtest: its manager, its clock and helpers
// that fail the subtest with a message naming the operation.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	m      session.Manager
	clock  *Clock // nil with Options.RealClock
	idle   time.Duration
	margin time.Duration // slack around deadlines
	// onLate, when set (real clock), is called instead of failing when a
	// check that must hold before a deadline failed after it.
	onLate func(msg string)
}

// real reports whether the subtest runs on real time.
func (f *fixture) real() bool { return f.clock == nil }

// now returns the time the store sees.
func (f *fixture) now() time.Time {
	if f.real() {
		return time.Now()
	}
	return f.clock.Now()
}

// elapse lets d pass: the fake clock moves, or (real clock only) the
// subtest sleeps so that a deadline goes by.
func (f *fixture) elapse(d time.Duration) {
	if f.real() {
		time.Sleep(d)
		return
	}
	f.clock.Advance(d)
}

// expect checks an outcome that must hold once a deadline has passed: at
// once under the fake clock, polled for a while under the real one.
func (f *fixture) expect(desc string, check func() error) {
	f.t.Helper()
	err := check()
	if err == nil {
		return
	}
	if f.real() {
		deadline := time.Now().Add(realPoll)
		for err != nil && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			err = check()
		}
	}
	if err != nil {
		f.t.Fatalf("%s: %v", desc, err)
	}
}

// still checks an outcome that must hold until limit (a deadline not yet
// reached). Under the real clock a failure that happened after limit is
// reported as a timing problem of the machine rather than of the store.
func (f *fixture) still(desc string, limit time.Time, check func() error) {
	f.t.Helper()
	if err := check(); err != nil {
		if late := f.now().Sub(limit); f.real() && late >= 0 {
			msg := fmt.Sprintf("%s: %v (real clock: the check ended %v after its deadline)", desc, err, late)
			if f.onLate != nil {
				f.onLate(msg)
			}
			f.t.Fatal(msg)
		}
		f.t.Fatalf("%s: %v", desc, err)
	}
}

// must fails the subtest if err is not nil.
func (f *fixture) must(op string, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: unexpected error: %v", op, err)
	}
}

// wantBool returns a check of a (bool, error) answer, such as Exists's or
// EvictProp's: no error, and want. Call it with the call:
// f.wantBool("Exists(k)", true)(f.m.Exists(f.ctx, id, "k")).
func (f *fixture) wantBool(op string, want bool) func(got bool, err error) {
	return func(got bool, err error) {
		f.t.Helper()
		f.must(op, err)
		if got != want {
			f.t.Errorf("%s = %v, want %v", op, got, want)
		}
	}
}

// wantErr fails the subtest unless errors.Is(err, target).
func (f *fixture) wantErr(op string, err, target error) {
	f.t.Helper()
	if !errors.Is(err, target) {
		f.t.Errorf("%s: got error %v, want one matching %v", op, err, target)
	}
}

// wantEqual fails the subtest unless got and want are deeply equal.
func (f *fixture) wantEqual(what string, got, want any) {
	f.t.Helper()
	if !reflect.DeepEqual(got, want) {
		f.t.Errorf("%s:\n got  %s\n want %s", what, show(got), show(want))
	}
}

func (f *fixture) save(id, key string, v any) {
	f.t.Helper()
	f.must(fmt.Sprintf("Save(%q, %q)", short(id), short(key)), f.m.Save(f.ctx, id, key, v))
}

func (f *fixture) saveAll(id string, vals map[string]any) {
	f.t.Helper()
	f.must(fmt.Sprintf("SaveAll(%q)", short(id)), f.m.SaveAll(f.ctx, id, vals))
}

func (f *fixture) saveProp(id, key string, v any) {
	f.t.Helper()
	f.must(fmt.Sprintf("SaveProp(%q, %q)", short(id), short(key)), f.m.SaveProp(f.ctx, id, key, v))
}

func (f *fixture) saveGlobal(key string, v any) {
	f.t.Helper()
	f.must(fmt.Sprintf("SaveGlobal(%q)", short(key)), f.m.SaveGlobal(f.ctx, key, v))
}

func (f *fixture) load(id, key string) any {
	f.t.Helper()
	v, err := f.m.Load(f.ctx, id, key)
	f.must(fmt.Sprintf("Load(%q, %q)", short(id), short(key)), err)
	return v
}

// wantLoad checks the untyped value of one key.
func (f *fixture) wantLoad(id, key string, want any) {
	f.t.Helper()
	f.wantEqual(fmt.Sprintf("Load(%q, %q)", short(id), short(key)), f.load(id, key), want)
}

// wantData checks FetchAll(id) against want (JSON's untyped forms).
func (f *fixture) wantData(id string, want map[string]any) {
	f.t.Helper()
	if err := f.dataIs(id, want); err != nil {
		f.t.Error(err)
	}
}

// wantProps checks Props(id) against want.
func (f *fixture) wantProps(id string, want map[string]any) {
	f.t.Helper()
	if err := f.propsAre(id, want); err != nil {
		f.t.Error(err)
	}
}

// wantGlobals checks Globals() against want.
func (f *fixture) wantGlobals(want map[string]any) {
	f.t.Helper()
	got, err := f.m.Globals(f.ctx)
	if err := collection("Globals()", got, err, want); err != nil {
		f.t.Error(err)
	}
}

// wantNoSession checks that session id does not exist.
func (f *fixture) wantNoSession(id string) {
	f.t.Helper()
	if err := f.noSession(id); err != nil {
		f.t.Error(err)
	}
}

// wantSession checks that session id exists (its TTL is readable).
func (f *fixture) wantSession(id string) {
	f.t.Helper()
	if _, err := f.m.TTL(f.ctx, id); err != nil {
		f.t.Errorf("TTL(%q) of a session that must exist: %v", short(id), err)
	}
}

// dataIs reports whether FetchAll(id) returns exactly want.
func (f *fixture) dataIs(id string, want map[string]any) error {
	got, err := f.m.FetchAll(f.ctx, id)
	return collection(fmt.Sprintf("FetchAll(%q)", short(id)), got, err, want)
}

// propsAre reports whether Props(id) returns exactly want.
func (f *fixture) propsAre(id string, want map[string]any) error {
	got, err := f.m.Props(f.ctx, id)
	return collection(fmt.Sprintf("Props(%q)", short(id)), got, err, want)
}

// noSession reports whether session id is gone: no data, no props, no TTL.
func (f *fixture) noSession(id string) error {
	if _, err := f.m.TTL(f.ctx, id); !errors.Is(err, session.ErrNotFound) {
		return fmt.Errorf("TTL(%q) of a session that must not exist: got error %v, want ErrNotFound", short(id), err)
	}
	if err := f.dataIs(id, map[string]any{}); err != nil {
		return err
	}
	return f.propsAre(id, map[string]any{})
}

// collection checks the result of FetchAll, Props or Globals.
func collection(op string, got map[string]any, err error, want map[string]any) error {
	switch {
	case err != nil:
		return fmt.Errorf("%s: unexpected error: %v", op, err)
	case got == nil:
		return fmt.Errorf("%s: returned a nil map, want a non-nil one", op)
	case !reflect.DeepEqual(got, want):
		return fmt.Errorf("%s:\n got  %s\n want %s", op, show(got), show(want))
	}
	return nil
}

// show formats v for a failure message, cut to a readable length.
func show(v any) string {
	return short(fmt.Sprintf("%#v", v))
}

// short cuts s for a failure message.
func short(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:max], len(s))
}

// notPanics runs fn and reports a panic as a failure naming op.
func (f *fixture) notPanics(op string, fn func()) {
	f.t.Helper()
	defer func() {
		if r := recover(); r != nil {
			f.t.Errorf("%s panicked: %v", op, r)
		}
	}()
	fn()
}

// asMap returns v as a JSON object or fails the subtest.
func (f *fixture) asMap(what string, v any) map[string]any {
	f.t.Helper()
	m, ok := v.(map[string]any)
	if !ok || m == nil {
		f.t.Fatalf("%s = %s, want a non-nil map[string]any", what, show(v))
	}
	return m
}

// asSlice returns v as a JSON array of n elements or fails the subtest.
func (f *fixture) asSlice(what string, v any, n int) []any {
	f.t.Helper()
	s, ok := v.([]any)
	if !ok || len(s) != n {
		f.t.Fatalf("%s = %s, want a []any of %d", what, show(v), n)
	}
	return s
}

// isNotFound reports whether err matches session.ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, session.ErrNotFound) }
