// Package glob matches keys and channels against Redis glob patterns (KEYS,
// SCAN MATCH, PSUBSCRIBE, CLIENT LIST filters), one matcher for the store and
// the server.
package glob

// Match reports whether s matches the Redis glob pattern: '*' any run, '?'
// one byte, '[abc]', '[^abc]', '[a-z]' sets, and '\' escaping the next byte.
// It works on bytes, as Redis does, never panics on a malformed pattern (an
// unclosed '[' is a set running to the end of the pattern) and runs in
// O(len(pattern)·len(s)) time whatever the number of stars: a '*' is retried
// only from the most recent one (the classic single-backtrack algorithm).
func Match(pattern, s string) bool {
	p := pattern
	px, sx := 0, 0
	starP, starS := -1, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			case '[':
				if sx < len(s) {
					if ok, n := matchClass(p[px:], s[sx]); ok {
						px += n
						sx++
						continue
					}
				}
			default:
				n := 1
				if c == '\\' && px+1 < len(p) {
					c = p[px+1]
					n = 2
				}
				if sx < len(s) && s[sx] == c {
					px += n
					sx++
					continue
				}
			}
		}
		if starP >= 0 && starS < len(s) {
			starS++
			px, sx = starP+1, starS
			continue
		}
		return false
	}
	return true
}

// matchClass matches b against the set at the start of p ("[...]") and
// returns whether it matched and the length of the set in p.
func matchClass(p string, b byte) (bool, int) {
	i := 1
	not := i < len(p) && p[i] == '^'
	if not {
		i++
	}
	matched := false
	for i < len(p) && p[i] != ']' {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			matched = matched || p[i+1] == b
			i += 2
		case i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']':
			lo, hi := p[i], p[i+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			matched = matched || (b >= lo && b <= hi)
			i += 3
		default:
			matched = matched || p[i] == b
			i++
		}
	}
	if i < len(p) {
		i++ // the closing ']'
	}
	return matched != not, i
}
