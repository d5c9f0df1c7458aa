package server

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Numbers as Redis reads and writes them.

const (
	msgNotFloat = "ERR value is not a valid float"
	msgNaNInf   = "ERR increment would produce NaN or Infinity"
)

// msgOverflow is Redis's reply to an increment past the int64 range.
const msgOverflow = "ERR increment or decrement would overflow"

// addInt64 returns n+delta, or false when the sum overflows int64.
func addInt64(n, delta int64) (int64, bool) {
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, false
	}
	return n + delta, true
}

// parseLL parses a 64-bit integer as Redis's string2ll does: an optional
// minus sign, no plus sign, no leading zeros, no spaces.
func parseLL(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var u uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	switch {
	case neg && u <= 1<<63:
		return -int64(u-1) - 1, true
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	}
	return 0, false
}

// longDoublePrec is the mantissa of the x87 long double Redis computes
// INCRBYFLOAT and HINCRBYFLOAT in: the same sums round the same way.
const longDoublePrec = 64

// maxLongDoubleChars bounds the text of a float Redis parses.
const maxLongDoubleChars = 5 * 1024

func newLongDouble() *big.Float {
	return new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven)
}

// parseLongDouble parses a float as Redis's string2ld does (strtold: no
// spaces, no NaN; "inf" is read).
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleChars {
		return nil, false
	}
	s := string(b)
	switch strings.ToLower(strings.TrimLeft(s, "+-")) {
	case "inf", "infinity":
		return newLongDouble().SetInf(s[0] == '-'), true
	}
	if strings.ContainsAny(s, " \t\r\n\v\f_") || strings.HasPrefix(strings.ToLower(strings.TrimLeft(s, "+-")), "0x") {
		return nil, false
	}
	f, _, err := newLongDouble().Parse(s, 10)
	if err != nil {
		return nil, false
	}
	return f, true
}

// addLongDouble returns a+b formatted as Redis's human long double text,
// false when the sum is infinite.
func addLongDouble(a, b *big.Float) ([]byte, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	sum := newLongDouble().Add(a, b)
	if sum.IsInf() {
		return nil, false
	}
	f, _ := sum.Float64()
	if math.IsInf(f, 0) && sum.MantExp(nil) > 16384 {
		return nil, false
	}
	return formatLongDouble(sum), true
}

// formatLongDouble is ld2string's LD_STR_HUMAN: "%.17Lf" without the
// trailing zeros (and a "-0" made "0").
func formatLongDouble(f *big.Float) []byte {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return []byte(s)
}

// parseCursor parses a SCAN cursor as Redis's strtoul does: a leading
// minus wraps around (-1 is the largest cursor), no spaces.
func parseCursor(b []byte) (uint64, bool) {
	s := string(b)
	if s == "" || s[0] == ' ' {
		return 0, false
	}
	neg := strings.HasPrefix(s, "-")
	u, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+"), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		u = -u
	}
	return u, true
}
