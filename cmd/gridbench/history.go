package main

import "bytes"

// The message-id history is a JSON array of strings, as pywce stores its
// list: ["wamid.A","wamid.B"]. Message ids hold no quote, comma or
// backslash, so the array is edited as bytes instead of being decoded and
// re-encoded on every message (the benchmark's client CPU is shared with the
// server under test on a small machine).

var sep = []byte(`","`)

// historyContains reports whether the history holds id.
func historyContains(hist, id []byte) bool {
	if len(hist) < len(id)+2 {
		return false
	}
	quoted := make([]byte, 0, len(id)+2)
	quoted = append(append(append(quoted, '"'), id...), '"')
	return bytes.Contains(hist, quoted)
}

// historyLen returns the number of ids in the history.
func historyLen(hist []byte) int {
	if len(hist) <= 2 { // nil, "" or "[]"
		return 0
	}
	return bytes.Count(hist, sep) + 1
}

// historyAppend returns a new history with id appended, keeping the last
// max ids (FIFO, as Worker._append_message_to_queue does). A missing or
// malformed history starts over.
func historyAppend(hist, id []byte, max int) []byte {
	if len(hist) < 4 || hist[0] != '[' || hist[1] != '"' || hist[len(hist)-1] != ']' {
		hist = nil
	}
	var body []byte // `"a","b"` without brackets
	if hist != nil {
		body = hist[1 : len(hist)-1]
		for drop := historyLen(hist) + 1 - max; drop > 0; drop-- {
			i := bytes.Index(body, sep)
			if i < 0 {
				body = nil
				break
			}
			body = body[i+2:] // keep the opening quote of the next id
		}
	}
	out := make([]byte, 0, len(body)+len(id)+5)
	out = append(out, '[')
	if len(body) > 0 {
		out = append(append(out, body...), ',')
	}
	out = append(append(append(out, '"'), id...), '"')
	return append(out, ']')
}
