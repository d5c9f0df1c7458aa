package server

import (
	"bytes"
	"io"
	"strconv"
)

// Parser limits, as Redis's.
const (
	readBufSize   = 4 << 10  // initial input buffer; it grows with the requests
	shrinkAbove   = 64 << 10 // a drained buffer larger than this is dropped
	maxInline     = 64 << 10 // longest inline request or header line
	maxArgs       = 1 << 20  // most arguments in one request
	unauthMaxArgs = 10       // before AUTH, when a password is set
	unauthMaxBulk = 16 << 10 // before AUTH, when a password is set
)

// protocolError is a malformed request. The server answers it with
// "-ERR Protocol error: ..." and closes the connection.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "Protocol error: " + e.msg }

func protoErr(msg string) error { return &protocolError{msg: msg} }

// span locates one argument relative to the start of its request.
type span struct{ off, n int }

// reader parses RESP requests (multibulk and inline) from src. Arguments
// returned by next are slices of its buffer, valid until next is called
// again. Parsing resumes where it stopped when a request arrives in
// pieces, so a request of n arguments costs O(n) whatever its chunking.
type reader struct {
	src    io.Reader
	buf    []byte
	r, w   int // unread input is buf[r:w]
	maxReq int // largest request, framing included

	// unauth applies Redis's limits for clients that still must AUTH.
	unauth bool

	// State of the multibulk request being parsed (inCmd), relative to r.
	inCmd bool
	head  int // bytes of the request's "*N\r\n" line (counted in maxReq)
	nargs int
	pos   int    // offset of the next element
	need  int    // input bytes (from r) needed before progress, 0 unknown
	spans []span // arguments parsed so far
	args  [][]byte
}

func newReader(src io.Reader, maxReq int) *reader {
	return &reader{src: src, buf: make([]byte, readBufSize), maxReq: maxReq}
}

// buffered reports whether unparsed input is waiting in the buffer.
func (rd *reader) buffered() bool { return rd.r < rd.w }

// next parses the next request from the buffered input. It returns ok
// false when the input holds no complete request (call fill), and a
// *protocolError for malformed input. Empty requests are skipped.
func (rd *reader) next() (args [][]byte, ok bool, err error) {
	for {
		if !rd.inCmd {
			if rd.r == rd.w {
				return nil, false, nil
			}
			if rd.buf[rd.r] != '*' {
				args, ok, err = rd.inline()
				if err != nil || !ok || len(args) > 0 {
					return args, ok, err
				}
				continue // empty line
			}
			n, hdr, err := rd.line(rd.r+1, "multibulk count")
			if err != nil || hdr == 0 {
				return nil, false, err
			}
			count, valid := parseInt(rd.buf[rd.r+1 : rd.r+1+n])
			switch {
			case !valid || count > maxArgs:
				return nil, false, protoErr("invalid multibulk length")
			case rd.unauth && count > unauthMaxArgs:
				return nil, false, protoErr("unauthenticated multibulk length")
			case int64(1+hdr)+count*6 > int64(rd.maxReq):
				// Each argument takes at least 6 bytes ("$0\r\n\r\n").
				return nil, false, protoErr("invalid multibulk length: " + strconv.FormatInt(count, 10) +
					" arguments cannot fit in the request limit of " + strconv.Itoa(rd.maxReq) + " bytes")
			}
			rd.r += 1 + hdr
			if count <= 0 {
				continue // "*0" and "*-1" are ignored, as by Redis
			}
			rd.inCmd, rd.head, rd.nargs, rd.pos, rd.need = true, 1+hdr, int(count), 0, 0
			rd.spans = rd.spans[:0]
		}
		for len(rd.spans) < rd.nargs {
			p := rd.r + rd.pos
			if p >= rd.w {
				return nil, false, nil
			}
			if rd.buf[p] != '$' {
				return nil, false, protoErr("expected '$', got '" + printable(rd.buf[p]) + "'")
			}
			n, hdr, err := rd.line(p+1, "bulk count")
			if err != nil || hdr == 0 {
				return nil, false, err
			}
			size, valid := parseInt(rd.buf[p+1 : p+1+n])
			switch {
			case !valid || size < 0:
				return nil, false, protoErr("invalid bulk length")
			case rd.unauth && size > unauthMaxBulk:
				return nil, false, protoErr("unauthenticated bulk length")
			case int64(rd.head+rd.pos+1+hdr)+size+2 > int64(rd.maxReq):
				return nil, false, protoErr("request exceeds the limit of " + strconv.Itoa(rd.maxReq) + " bytes")
			}
			start := rd.pos + 1 + hdr
			end := start + int(size)
			if rd.r+end+2 > rd.w {
				rd.need = end + 2
				return nil, false, nil
			}
			if rd.buf[rd.r+end] != '\r' || rd.buf[rd.r+end+1] != '\n' {
				return nil, false, protoErr("expected CRLF after a bulk string")
			}
			rd.spans = append(rd.spans, span{off: start, n: int(size)})
			rd.pos, rd.need = end+2, 0
		}
		rd.args = rd.args[:0]
		for _, s := range rd.spans {
			a := rd.r + s.off
			rd.args = append(rd.args, rd.buf[a:a+s.n:a+s.n])
		}
		rd.r += rd.pos
		rd.inCmd = false
		return rd.args, true, nil
	}
}

// line finds the CRLF ending the header line that starts at p. It returns
// the length of the line's text and hdr, the bytes up to and including the
// CRLF, or hdr 0 when the line is not complete yet.
func (rd *reader) line(p int, what string) (n, hdr int, err error) {
	i := bytes.IndexByte(rd.buf[p:rd.w], '\r')
	if i < 0 || p+i+1 >= rd.w {
		if rd.w-p > maxInline {
			return 0, 0, protoErr("too big " + what + " string")
		}
		return 0, 0, nil
	}
	if rd.buf[p+i+1] != '\n' {
		return 0, 0, protoErr("expected CRLF after the " + what)
	}
	return i, i + 2, nil
}

// inline parses a request in the inline form: one line of arguments
// separated by spaces or tabs, ended by LF or CRLF.
func (rd *reader) inline() (args [][]byte, ok bool, err error) {
	i := bytes.IndexByte(rd.buf[rd.r:rd.w], '\n')
	if i < 0 {
		if rd.w-rd.r > maxInline {
			return nil, false, protoErr("too big inline request")
		}
		return nil, false, nil
	}
	line := rd.buf[rd.r : rd.r+i]
	rd.r += i + 1
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	rd.args = rd.args[:0]
	if hasQuote(line) {
		if rd.args, err = splitQuotedArgs(line, rd.args); err != nil {
			return nil, false, err
		}
		if rd.unauth && len(rd.args) > unauthMaxArgs {
			return nil, false, protoErr("unauthenticated multibulk length")
		}
		return rd.args, true, nil
	}
	for len(line) > 0 {
		j := 0
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		line = line[j:]
		j = 0
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if j > 0 {
			if rd.unauth && len(rd.args) >= unauthMaxArgs {
				return nil, false, protoErr("unauthenticated multibulk length")
			}
			rd.args = append(rd.args, line[:j:j])
		}
		line = line[j:]
	}
	return rd.args, true, nil
}

// fill reads more input, compacting or growing the buffer as the request
// being parsed requires. A read that returned data reports no error; the
// error comes back on the next call.
func (rd *reader) fill() error {
	if rd.r == rd.w {
		rd.r, rd.w = 0, 0
		if len(rd.buf) > shrinkAbove && !rd.inCmd {
			rd.buf = make([]byte, readBufSize) // drop the buffer of a past large request
		}
	}
	need := rd.need
	if need == 0 {
		need = rd.w - rd.r + 512
	}
	if rd.r+need > len(rd.buf) || len(rd.buf)-rd.w < 512 {
		if rd.r > 0 {
			rd.w = copy(rd.buf, rd.buf[rd.r:rd.w])
			rd.r = 0
		}
		if need > len(rd.buf) || len(rd.buf)-rd.w < 512 {
			size := max(2*len(rd.buf), need)
			if limit := rd.maxReq + maxInline; size > limit {
				size = max(limit, need)
			}
			nb := make([]byte, size)
			copy(nb, rd.buf[:rd.w])
			rd.buf = nb
		}
	}
	n, err := rd.src.Read(rd.buf[rd.w:])
	rd.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// parseInt parses a decimal integer: an optional '-' and 1 to 18 digits.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// printable returns b as a string for an error message, or its escape.
func printable(b byte) string {
	if b >= 0x20 && b < 0x7f {
		return string(rune(b))
	}
	return "\\x" + strconv.FormatUint(uint64(b), 16)
}
