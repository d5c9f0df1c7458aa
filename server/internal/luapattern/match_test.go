package luapattern

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// find is string.find without init: the first match of pat in src.
func find(src, pat string, check func() error) (start, end int, st *State, err error) {
	st = New(src, pat, check)
	p, anchor := 0, strings.HasPrefix(pat, "^")
	if anchor {
		p = 1
	}
	for s := 0; s <= len(src); s++ {
		e, err := st.MatchAt(s, p)
		if err != nil || e >= 0 {
			return s, e, st, err
		}
		if anchor {
			break
		}
	}
	return -1, -1, st, nil
}

func TestFind(t *testing.T) {
	cases := []struct {
		src, pat   string
		start, end int
		caps       []string
	}{
		{"hello world", "o w", 4, 7, nil},
		{"hello", "l+", 2, 4, nil},
		{"key=value", "(%w+)=(%w+)", 0, 9, []string{"key", "value"}},
		{"f(a(b)c)d", "%b()", 1, 8, nil},
		{"THE (quick) fox", "%f[%a]%a+", 0, 3, nil},
		{"hello hello", "(h%a+) %1", 0, 11, []string{"hello"}},
		{"abc", "^b", -1, -1, nil},
		{"abc", "c$", 2, 3, nil},
		{"aaab", "a-b", 0, 4, nil},
		{"", "a*", 0, 0, nil},
		{"a]b", "[]]", 1, 2, nil},
		{"x", "(a*(.)%w(%s*))", -1, -1, nil},
	}
	for _, tc := range cases {
		s, e, st, err := find(tc.src, tc.pat, nil)
		if err != nil || s != tc.start || e != tc.end {
			t.Errorf("find(%q, %q) = %d, %d, %v; want %d, %d", tc.src, tc.pat, s, e, err, tc.start, tc.end)
			continue
		}
		if e < 0 {
			continue
		}
		var caps []string
		for i := range st.Captures() {
			cs, ce, _, _, err := st.Capture(i, s, e)
			if err != nil {
				t.Fatal(err)
			}
			caps = append(caps, tc.src[cs:ce])
		}
		if strings.Join(caps, "|") != strings.Join(tc.caps, "|") {
			t.Errorf("find(%q, %q) captures %q, want %q", tc.src, tc.pat, caps, tc.caps)
		}
	}
}

func TestMalformedPatterns(t *testing.T) {
	for _, pat := range []string{"[a", "%", "%1", "%b", "%fa", "[%", "a%", "a)"} {
		if _, _, _, err := find("abc", pat, nil); !errors.Is(err, ErrPattern) {
			t.Errorf("%q: err = %v, want ErrPattern", pat, err)
		}
	}
	// An unclosed capture matches, and reading it fails, as in Lua.
	s, e, st, err := find("abc", "(a", nil)
	if err != nil || e < 0 {
		t.Fatalf("(a: %d, %d, %v", s, e, err)
	}
	if _, _, _, _, err := st.Capture(0, s, e); !errors.Is(err, ErrPattern) || err.Error() != "unfinished capture" {
		t.Errorf("(a: capture err = %v", err)
	}
	if _, _, _, err := find("abc", strings.Repeat("(", MaxCaptures+1)+"a", nil); err == nil || err.Error() != "too many captures" {
		t.Errorf("too many captures: %v", err)
	}
	if _, _, _, err := find(strings.Repeat("a", 3*MaxDepth), strings.Repeat("a?", 2*MaxDepth), nil); err == nil ||
		err.Error() != "pattern too complex" {
		t.Errorf("deep pattern: %v", err)
	}
}

// The check stops a backtracking match that would take hours, promptly.
func TestCheckStopsBacktracking(t *testing.T) {
	errStop := errors.New("stop")
	deadline := time.Now().Add(100 * time.Millisecond)
	calls := 0
	check := func() error {
		calls++
		if time.Now().After(deadline) {
			return errStop
		}
		return nil
	}
	start := time.Now()
	_, _, _, err := find(strings.Repeat("a", 200000), strings.Repeat("a*", 4)+"b", check)
	if !errors.Is(err, errStop) {
		t.Fatalf("err = %v, want the check's error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("stopped after %v", d)
	}
	if calls < 2 {
		t.Fatalf("check called %d times", calls)
	}
}

var errBudget = errors.New("step budget spent")

// FuzzMatchAt checks that no subject and pattern make the matcher panic or
// return bounds outside the subject, and that a match is repeatable.
func FuzzMatchAt(f *testing.F) {
	for _, seed := range [][2]string{
		{"hello world", "(%w+) (%w+)"}, {"f(a(b)c)d", "%b()"}, {"THE (quick) fox", "%f[%a]%a+"},
		{"a,b,,c", "([^,]*)"}, {"  trim  ", "^%s*(.-)%s*$"}, {"aaab", "a-b"}, {"abc", "()b()"},
		{"x]y", "[]]"}, {"aaaaaaaa", "a*a*a*b"}, {"abab", "(ab)%1"}, {"a\x00b", "%z"}, {"", "$"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, src, pat string) {
		if len(src) > 256 || len(pat) > 64 {
			return
		}
		steps := 0
		check := func() error {
			if steps++; steps > 64 { // 64 × CheckEvery steps
				return errBudget
			}
			return nil
		}
		s, e, st, err := find(src, pat, check)
		if err != nil {
			if !errors.Is(err, ErrPattern) && !errors.Is(err, errBudget) {
				t.Fatalf("find(%q, %q): unexpected error %v", src, pat, err)
			}
			return
		}
		if e < 0 {
			return
		}
		if s < 0 || s > e || e > len(src) {
			t.Fatalf("find(%q, %q) = %d, %d: out of bounds", src, pat, s, e)
		}
		for i := range max(st.Captures(), 1) {
			cs, ce, pos, isPos, err := st.Capture(i, s, e)
			if err != nil {
				if !errors.Is(err, ErrPattern) {
					t.Fatalf("capture %d: %v", i, err)
				}
				continue
			}
			if isPos && (pos < 1 || pos > len(src)+1) || !isPos && (cs < 0 || cs > ce || ce > len(src)) {
				t.Fatalf("find(%q, %q): capture %d = %d, %d, %d, %v", src, pat, i, cs, ce, pos, isPos)
			}
		}
		steps = 0
		if s2, e2, _, err := find(src, pat, check); err == nil && (s2 != s || e2 != e) {
			t.Fatalf("find(%q, %q) = %d, %d then %d, %d", src, pat, s, e, s2, e2)
		}
	})
}
