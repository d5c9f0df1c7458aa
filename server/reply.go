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

func (w *replies) int(n int64) {
	w.b = append(w.b, ':')
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, '\r', '\n')
}

func (w *replies) bool(v bool) {
	if v {
		w.b = append(w.b, ":1\r\n"...)
	} else {
		w.b = append(w.b, ":0\r\n"...)
	}
}

func (w *replies) bulk(v []byte) {
	w.b = append(w.b, '$')
	w.b = strconv.AppendInt(w.b, int64(len(v)), 10)
	w.b = append(w.b, '\r', '\n')
	w.b = append(w.b, v...)
	w.b = append(w.b, '\r', '\n')
}

func (w *replies) bulkString(v string) {
	w.b = append(w.b, '$')
	w.b = strconv.AppendInt(w.b, int64(len(v)), 10)
	w.b = append(w.b, '\r', '\n')
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

func (w *replies) array(n int) {
	w.b = append(w.b, '*')
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, '\r', '\n')
}

// mapHeader starts a map of n pairs: RESP3 "%n", RESP2 a flat array of 2n.
func (w *replies) mapHeader(n int) {
	if w.resp3 {
		w.b = append(w.b, '%')
		w.b = strconv.AppendInt(w.b, int64(n), 10)
		w.b = append(w.b, '\r', '\n')
		return
	}
	w.array(2 * n)
}

// setHeader starts a set of n members: RESP3 "~n", RESP2 an array.
func (w *replies) setHeader(n int) {
	if w.resp3 {
		w.b = append(w.b, '~')
		w.b = strconv.AppendInt(w.b, int64(n), 10)
		w.b = append(w.b, '\r', '\n')
		return
	}
	w.array(n)
}

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
