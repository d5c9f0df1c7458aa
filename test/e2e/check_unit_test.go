package e2e

import (
	"testing"
)

// The checkers themselves, on histories written by hand (no Docker): they
// must pass what is correct and catch each kind of anomaly the chaos tests
// look for.
func TestCheckers(t *testing.T) {
	ms := func(n int64) int64 { return n * 1e6 }
	hset := func(c int, key string, f int, v string, call, ret int64, n int64, out outcome) op {
		return op{Client: c, Member: "m1", Kind: opHSet, Key: key, Field: f, Value: v, Call: ms(call), Return: ms(ret), N: n, Outcome: out}
	}
	hget := func(c int, key string, f int, read string, call, ret int64) op {
		return op{Client: c, Member: "m2", Kind: opHGet, Key: key, Field: f, Read: read, Call: ms(call), Return: ms(ret), Outcome: ok}
	}
	del := func(c int, key string, call, ret int64, n int64, out outcome) op {
		return op{Client: c, Member: "m1", Kind: opDel, Key: key, Call: ms(call), Return: ms(ret), N: n, Outcome: out}
	}
	gset := func(c int, key, v string, call, ret int64, out outcome) op {
		return op{Client: c, Member: "m1", Kind: opGSet, Key: key, Value: v, Call: ms(call), Return: ms(ret), Outcome: out}
	}
	gget := func(c int, key, read string, call, ret int64) op {
		return op{Client: c, Member: "m2", Kind: opGGet, Key: key, Read: read, Call: ms(call), Return: ms(ret), Outcome: ok}
	}
	newSession := func(c int, key, v string, call, ret int64, out outcome) op {
		return op{Client: c, Member: "m1", Kind: opNew, Key: key, Value: v, Call: ms(call), Return: ms(ret), N: 1, Outcome: out}
	}
	newGet := func(key, read string, call, ret int64) op {
		return op{Client: 9, Member: "m3", Kind: opNewGet, Key: key, Read: read, Call: ms(call), Return: ms(ret), Outcome: ok}
	}

	cases := []struct {
		name             string
		history, final   []op
		lost             int
		sessionsLinear   bool
		globalsLinear    bool
		unreadable, junk int
	}{
		{
			name: "correct",
			history: []op{
				hset(0, "s", 0, "a", 0, 10, 1, ok),
				hget(1, "s", 0, "a", 11, 12),
				hset(0, "s", 1, "b", 20, 30, 1, ok),
				hset(1, "s", 0, "c", 25, 28, 0, ok), // concurrent with the read below
				hget(2, "s", 0, "a", 24, 26),
				del(0, "s", 40, 50, 1, ok),
				hset(1, "s", 2, "d", 60, 70, 1, ok),
				gset(0, "g", "x", 0, 5, ok),
				gget(1, "g", "x", 6, 7),
				newSession(0, "n1", "v1", 0, 5, ok),
			},
			final: []op{
				hget(3, "s", 0, "", 100, 101), hget(3, "s", 1, "", 100, 101), hget(3, "s", 2, "d", 100, 101),
				gget(3, "g", "x", 100, 101), newGet("n1", "v1", 100, 101),
			},
			sessionsLinear: true, globalsLinear: true,
		},
		{
			name: "indeterminate writes may or may not apply",
			history: []op{
				hset(0, "s", 0, "a", 0, 10, 1, ok),
				hset(1, "s", 0, "b", 20, 1000, 0, unknown), // timed out
				hget(2, "s", 0, "a", 30, 31),
				hget(2, "s", 0, "b", 40, 41),              // it did apply, late
				hset(3, "t", 0, "x", 0, 1000, 0, unknown), // never applied
				gset(0, "g", "y", 0, 1000, unknown),
				gget(1, "g", "", 5, 6),
			},
			final: []op{
				hget(4, "s", 0, "b", 2000, 2001), hget(4, "t", 0, "", 2000, 2001), gget(4, "g", "", 2000, 2001),
			},
			sessionsLinear: true, globalsLinear: true,
		},
		{
			name: "acknowledged write lost",
			history: []op{
				hset(0, "s", 0, "a", 0, 10, 1, ok),
				newSession(0, "n1", "v1", 0, 5, ok),
				gset(0, "g", "x", 0, 5, ok),
			},
			final: []op{
				hget(4, "s", 0, "", 100, 101), newGet("n1", "", 100, 101), gget(4, "g", "", 100, 101),
			},
			lost: 3, sessionsLinear: false, globalsLinear: false,
		},
		{
			name: "overwritten by an older write",
			history: []op{
				hset(0, "s", 0, "a", 0, 10, 1, ok),
				hset(0, "s", 0, "b", 20, 30, 0, ok),
			},
			final:          []op{hget(4, "s", 0, "a", 100, 101)},
			lost:           1,
			sessionsLinear: false, globalsLinear: true,
		},
		{
			name: "acknowledged delete undone",
			history: []op{
				hset(0, "s", 0, "a", 0, 10, 1, ok),
				del(0, "s", 20, 30, 1, ok),
			},
			final:          []op{hget(4, "s", 0, "a", 100, 101)},
			lost:           1,
			sessionsLinear: false, globalsLinear: true,
		},
		{
			name: "stale read during the run",
			history: []op{
				hset(0, "s", 0, "a", 0, 10, 1, ok),
				hset(0, "s", 0, "b", 20, 30, 0, ok),
				hget(1, "s", 0, "a", 40, 41),
			},
			final:          []op{hget(4, "s", 0, "b", 100, 101)},
			sessionsLinear: false, globalsLinear: true,
		},
		{
			name: "HSET says a field was new when it was not",
			history: []op{
				hset(0, "s", 0, "a", 0, 10, 1, ok),
				hset(0, "s", 0, "b", 20, 30, 1, ok),
			},
			final:          []op{hget(4, "s", 0, "b", 100, 101)},
			sessionsLinear: false, globalsLinear: true,
		},
		{
			name:           "final read fails; a value nobody wrote",
			history:        []op{hset(0, "s", 0, "a", 0, 10, 1, ok), hset(0, "s", 1, "b", 0, 10, 1, ok)},
			final:          []op{{Kind: opHGet, Key: "s", Field: 0, Member: "m3", Outcome: unknown, Err: "i/o timeout"}, hget(4, "s", 1, "zzz", 100, 101)},
			unreadable:     1,
			junk:           1,
			sessionsLinear: false, globalsLinear: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lost, unreadable, junk := setCheck(tc.history, tc.final)
			if len(lost) != tc.lost {
				t.Errorf("lost %d writes, want %d: %v", len(lost), tc.lost, lost)
			}
			if len(unreadable) != tc.unreadable || len(junk) != tc.junk {
				t.Errorf("unreadable %d, junk %d; want %d, %d", len(unreadable), len(junk), tc.unreadable, tc.junk)
			}
			all := append(append([]op(nil), tc.history...), tc.final...)
			if err := linearizable("sessions", sessionModel, porcupineOps(all, false), ""); (err == nil) != tc.sessionsLinear {
				t.Errorf("sessions: linearizable = %v, want %v", err, tc.sessionsLinear)
			}
			if err := linearizable("globals", globalModel, porcupineOps(all, true), ""); (err == nil) != tc.globalsLinear {
				t.Errorf("globals: linearizable = %v, want %v", err, tc.globalsLinear)
			}
		})
	}
}
