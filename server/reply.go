package server

import (
	"slices"
	"strconv"
)

// replies is the output buffer of one connection: replies are appended in
// RESP2 or RESP3 and written to the socket by the connection loop.
type replies struct {
	b     []byte
	resp3 bool
	// failed is set by every error reply (for the error counters).
	failed bool
}

func (w *replies) ok() { w.b = append(w.b, "+OK\r\n"...) }

// simple appends a simple string; s must not contain CR or LF.
func (w *replies) simple(s string) {
	w.b = append(w.b, '+')
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

// error appends an error reply; msg starts with its code (ERR, WRONGTYPE,
// ...). CR and LF in msg are replaced by spaces so the reply stays one line.
func (w *replies) error(msg string) {
	w.failed = true
	w.b = append(w.b, '-')
	start := len(w.b)
	w.b = append(w.b, msg...)
	for i := start; i < len(w.b); i++ {
		if w.b[i] == '\r' || w.b[i] == '\n' {
			w.b[i] = ' '
		}
	}
	w.b = append(w.b, '\r', '\n')
}

func (w *replies) int(n int64) { w.header(':', n) }

// header appends a line of a type byte and a number: an integer (":n"), or
// the length that starts a bulk string or an aggregate ("$n", "*n", "%n").
func (w *replies) header(kind byte, n int64) {
	w.b = append(w.b, kind)
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, '\r', '\n')
}

// aggregate starts an aggregate of n elements: RESP3 the kind's own header
// ("%n", "~n", ">n"), RESP2 an array of n*resp2Factor elements (a map is a
// flat array of its keys and values).
func (w *replies) aggregate(kind byte, n, resp2Factor int) {
	if w.resp3 {
		w.header(kind, int64(n))
		return
	}
	w.array(n * resp2Factor)
}

func (w *replies) bool(v bool) {
	if v {
		w.b = append(w.b, ":1\r\n"...)
	} else {
		w.b = append(w.b, ":0\r\n"...)
	}
}

func (w *replies) bulk(v []byte) {
	w.header('$', int64(len(v)))
	w.b = append(w.b, v...)
	w.b = append(w.b, '\r', '\n')
}

func (w *replies) bulkString(v string) {
	w.header('$', int64(len(v)))
	w.b = append(w.b, v...)
	w.b = append(w.b, '\r', '\n')
}

// null appends a null bulk string (RESP2 "$-1", RESP3 "_").
func (w *replies) null() {
	if w.resp3 {
		w.b = append(w.b, "_\r\n"...)
	} else {
		w.b = append(w.b, "$-1\r\n"...)
	}
}

// nullArray appends a null array (RESP2 "*-1", RESP3 "_").
func (w *replies) nullArray() {
	if w.resp3 {
		w.b = append(w.b, "_\r\n"...)
	} else {
		w.b = append(w.b, "*-1\r\n"...)
	}
}

func (w *replies) array(n int) { w.header('*', int64(n)) }

// mapHeader starts a map of n pairs: RESP3 "%n", RESP2 a flat array of 2n.
func (w *replies) mapHeader(n int) { w.aggregate('%', n, 2) }

// setHeader starts a set of n members: RESP3 "~n", RESP2 an array.
func (w *replies) setHeader(n int) { w.aggregate('~', n, 1) }

// push starts a RESP3 push of n elements (">n"); an array in RESP2.
func (w *replies) push(n int) { w.aggregate('>', n, 1) }

// bytesMap appends m as a map with its keys in sorted order.
func (w *replies) bytesMap(m map[string][]byte) {
	w.mapHeader(len(m))
	for _, k := range sortedKeys(m) {
		w.bulkString(k)
		w.bulk(m[k])
	}
}

// strings appends an array of bulk strings.
func (w *replies) strings(ss []string) {
	w.array(len(ss))
	for _, s := range ss {
		w.bulkString(s)
	}
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
