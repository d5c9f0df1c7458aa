package luapattern

import (
	"errors"
	"fmt"
)

const (
	// MaxCaptures bounds the captures of one pattern (Lua's LUA_MAXCAPTURES).
	MaxCaptures = 32
	// MaxDepth bounds the nesting of the matcher (the items that can
	// backtrack: ?, *, +, - and captures). Lua 5.2 and later refuse
	// patterns past 200 ("pattern too complex"); Lua 5.1 overflowed the C
	// stack.
	MaxDepth = 1000
	// CheckEvery is how many matcher steps pass between two calls of the
	// check function.
	CheckEvery = 1024

	capUnfinished = -1
	capPosition   = -2
)

// ErrPattern reports a malformed pattern or replacement (the message is
// Lua's).
var ErrPattern = errors.New("malformed pattern")

// patternError is a Lua error raised while matching.
type patternError struct{ msg string }

func (e *patternError) Error() string { return e.msg }
func (e *patternError) Unwrap() error { return ErrPattern }

// stop carries an error out of the recursion (a panic recovered by the
// exported entry points).
type stop struct{ err error }

func fail(format string, args ...any) {
	panic(stop{&patternError{fmt.Sprintf(format, args...)}})
}

type capture struct {
	init, len int
}

// State matches one pattern against one subject. It is not safe for
// concurrent use. The zero value is not usable: use New.
type State struct {
	src, pat string
	check    func() error

	level   int
	capture [MaxCaptures]capture
	depth   int
	steps   int
}

// New returns a matcher of pat against src. check, when not nil, is called
// every CheckEvery steps; the match stops with its error when it returns
// one.
func New(src, pat string, check func() error) *State {
	return &State{src: src, pat: pat, check: check}
}

// run calls f, turning the matcher's panics into errors.
func run(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s, ok := r.(stop)
			if !ok {
				panic(r)
			}
			err = s.err
		}
	}()
	f()
	return nil
}

// MatchAt tries the pattern, from byte p of it, at byte s of the subject
// (no scanning, no anchor handling). It returns the end of the match, or
// -1 when there is none. Captures are read with Captures afterwards.
func (st *State) MatchAt(s, p int) (end int, err error) {
	st.level, st.depth = 0, 0
	err = run(func() { end = st.match(s, p) })
	if err != nil {
		return -1, err
	}
	return end, nil
}

func (st *State) step() {
	st.steps++
	if st.steps%CheckEvery == 0 && st.check != nil {
		if err := st.check(); err != nil {
			panic(stop{err})
		}
	}
}

func (st *State) enter() {
	st.depth++
	if st.depth > MaxDepth {
		fail("pattern too complex")
	}
}

func (st *State) leave() { st.depth-- }

// at returns the pattern byte at p, 0 past its end (Lua's '\0').
func (st *State) patAt(p int) byte {
	if p < len(st.pat) {
		return st.pat[p]
	}
	return 0
}

func (st *State) classEnd(p int) int {
	c := st.pat[p]
	p++
	switch c {
	case '%':
		if p >= len(st.pat) {
			fail("malformed pattern (ends with '%%')")
		}
		return p + 1
	case '[':
		if st.patAt(p) == '^' {
			p++
		}
		for { // look for a ']'
			if p >= len(st.pat) {
				fail("malformed pattern (missing ']')")
			}
			c := st.pat[p]
			p++
			if c == '%' && p < len(st.pat) {
				p++ // skip escapes (e.g. '%]')
			}
			if st.patAt(p) == ']' && p < len(st.pat) {
				return p + 1
			}
		}
	}
	return p
}

func isalpha(c byte) bool  { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isdigit(c byte) bool  { return '0' <= c && c <= '9' }
func islower(c byte) bool  { return 'a' <= c && c <= 'z' }
func isupper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func iscntrl(c byte) bool  { return c < 32 || c == 127 }
func isspace(c byte) bool  { return c == ' ' || '\t' <= c && c <= '\r' }
func ispunct(c byte) bool  { return 33 <= c && c <= 126 && !isalpha(c) && !isdigit(c) }
func isxdigit(c byte) bool { return isdigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func matchClass(c, cl byte) bool {
	var res bool
	lower := cl
	if isupper(cl) {
		lower = cl + ('a' - 'A')
	}
	switch lower {
	case 'a':
		res = isalpha(c)
	case 'c':
		res = iscntrl(c)
	case 'd':
		res = isdigit(c)
	case 'l':
		res = islower(c)
	case 'p':
		res = ispunct(c)
	case 's':
		res = isspace(c)
	case 'u':
		res = isupper(c)
	case 'w':
		res = isalpha(c) || isdigit(c)
	case 'x':
		res = isxdigit(c)
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if isupper(cl) {
		res = !res
	}
	return res
}

// matchBracketClass matches c against the set from p ('[') to ec (']').
func (st *State) matchBracketClass(c byte, p, ec int) bool {
	sig := true
	if st.pat[p+1] == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case st.pat[p] == '%':
			p++
			if matchClass(c, st.pat[p]) {
				return sig
			}
		case st.pat[p+1] == '-' && p+2 < ec:
			p += 2
			if st.pat[p-2] <= c && c <= st.pat[p] {
				return sig
			}
		case st.pat[p] == c:
			return sig
		}
	}
	return !sig
}

func (st *State) singleMatch(s, p, ep int) bool {
	if s >= len(st.src) {
		return false
	}
	c := st.src[s]
	switch st.pat[p] {
	case '.':
		return true
	case '%':
		return matchClass(c, st.pat[p+1])
	case '[':
		return st.matchBracketClass(c, p, ep-1)
	}
	return st.pat[p] == c
}

func (st *State) matchBalance(s, p int) int {
	if p+1 >= len(st.pat) {
		fail("unbalanced pattern")
	}
	if s >= len(st.src) || st.src[s] != st.pat[p] {
		return -1
	}
	b, e := st.pat[p], st.pat[p+1]
	cont := 1
	for s++; s < len(st.src); s++ {
		st.step()
		switch st.src[s] {
		case e:
			if cont--; cont == 0 {
				return s + 1
			}
		case b:
			cont++
		}
	}
	return -1
}

func (st *State) maxExpand(s, p, ep int) int {
	i := 0
	for st.singleMatch(s+i, p, ep) {
		st.step()
		i++
	}
	for ; i >= 0; i-- { // try with the most repetitions first
		st.step()
		if res := st.match(s+i, ep+1); res >= 0 {
			return res
		}
	}
	return -1
}

func (st *State) minExpand(s, p, ep int) int {
	for {
		st.step()
		if res := st.match(s, ep+1); res >= 0 {
			return res
		}
		if !st.singleMatch(s, p, ep) {
			return -1
		}
		s++
	}
}

func (st *State) startCapture(s, p, what int) int {
	if st.level >= MaxCaptures {
		fail("too many captures")
	}
	st.capture[st.level] = capture{init: s, len: what}
	st.level++
	res := st.match(s, p)
	if res < 0 {
		st.level--
	}
	return res
}

func (st *State) endCapture(s, p int) int {
	l := st.captureToClose()
	st.capture[l].len = s - st.capture[l].init
	res := st.match(s, p)
	if res < 0 {
		st.capture[l].len = capUnfinished
	}
	return res
}

func (st *State) captureToClose() int {
	for l := st.level - 1; l >= 0; l-- {
		if st.capture[l].len == capUnfinished {
			return l
		}
	}
	fail("invalid pattern capture")
	return 0
}

func (st *State) checkCapture(c byte) int {
	l := int(c) - '1'
	if l < 0 || l >= st.level || st.capture[l].len == capUnfinished {
		fail("invalid capture index")
	}
	return l
}

func (st *State) matchCapture(s int, c byte) int {
	l := st.checkCapture(c)
	n := st.capture[l].len
	init := st.capture[l].init
	if n < 0 { // a position capture matches nothing (Lua compares with a huge length)
		return -1
	}
	if len(st.src)-s >= n && st.src[init:init+n] == st.src[s:s+n] {
		return s + n
	}
	return -1
}

// match is lstrlib.c's match: the end of a match of the pattern from p at
// s, or -1.
func (st *State) match(s, p int) int {
	st.enter()
	defer st.leave()
	for {
		st.step()
		if p >= len(st.pat) {
			return s // end of pattern
		}
		switch st.pat[p] {
		case '(':
			if st.patAt(p+1) == ')' {
				return st.startCapture(s, p+2, capPosition)
			}
			return st.startCapture(s, p+1, capUnfinished)
		case ')':
			return st.endCapture(s, p+1)
		case '$':
			if p+1 == len(st.pat) {
				if s == len(st.src) {
					return s
				}
				return -1
			}
		case '%':
			switch next := st.patAt(p + 1); {
			case next == 'b':
				if s = st.matchBalance(s, p+2); s < 0 {
					return -1
				}
				p += 4
				continue
			case next == 'f':
				p += 2
				if st.patAt(p) != '[' {
					fail("missing '[' after '%%f' in pattern")
				}
				ep := st.classEnd(p)
				var prev, cur byte
				if s > 0 {
					prev = st.src[s-1]
				}
				if s < len(st.src) {
					cur = st.src[s]
				}
				if st.matchBracketClass(prev, p, ep-1) || !st.matchBracketClass(cur, p, ep-1) {
					return -1
				}
				p = ep
				continue
			case isdigit(next):
				if s = st.matchCapture(s, next); s < 0 {
					return -1
				}
				p += 2
				continue
			}
		}
		// A single item, maybe with a repetition suffix.
		ep := st.classEnd(p)
		m := st.singleMatch(s, p, ep)
		switch st.patAt(ep) {
		case '?':
			if ep < len(st.pat) {
				if m {
					if res := st.match(s+1, ep+1); res >= 0 {
						return res
					}
				}
				p = ep + 1
				continue
			}
		case '*':
			if ep < len(st.pat) {
				return st.maxExpand(s, p, ep)
			}
		case '+':
			if ep < len(st.pat) {
				if !m {
					return -1
				}
				return st.maxExpand(s+1, p, ep)
			}
		case '-':
			if ep < len(st.pat) {
				return st.minExpand(s, p, ep)
			}
		}
		if !m {
			return -1
		}
		s++
		p = ep
	}
}

// Captures returns the number of captures of the last match (0: the
// pattern has none, the whole match stands for the first).
func (st *State) Captures() int { return st.level }

// Capture returns capture i (from 0) of the last match, which ended at
// end and started at start: its bounds in the subject, or, for a position
// capture, pos (its 1-based position, as Lua returns it) and isPos.
// Without captures, capture 0 is the whole match.
func (st *State) Capture(i, start, end int) (s, e int, pos int, isPos bool, err error) {
	if i >= st.level {
		if i == 0 {
			return start, end, 0, false, nil
		}
		return 0, 0, 0, false, &patternError{"invalid capture index"}
	}
	c := st.capture[i]
	switch c.len {
	case capUnfinished:
		return 0, 0, 0, false, &patternError{"unfinished capture"}
	case capPosition:
		return 0, 0, c.init + 1, true, nil
	}
	return c.init, c.init + c.len, 0, false, nil
}
