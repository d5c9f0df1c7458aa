package server

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll parses every request of input through a reader that returns
// chunk bytes per Read.
func readAll(t *testing.T, input string, src func(io.Reader) io.Reader, maxReq int) ([][]string, error) {
	t.Helper()
	rd := newReader(src(strings.NewReader(input)), maxReq)
	var out [][]string
	for {
		args, ok, err := rd.next()
		if err != nil {
			return out, err
		}
		if !ok {
			if err := rd.fill(); err != nil {
				if errors.Is(err, io.EOF) {
					return out, nil
				}
				return out, err
			}
			continue
		}
		var req []string
		for _, a := range args {
			req = append(req, string(a))
		}
		out = append(out, req)
	}
}

func TestReader(t *testing.T) {
	big := strings.Repeat("x", 100000)
	input := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + "100000\r\n" + big + "\r\n" +
		"PING\r\n" +
		"  hget\tk   f \n" +
		"*1\r\n$0\r\n\r\n" +
		"*0\r\n" +
		"*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n"
	want := [][]string{{"SET", "k", big}, {"PING"}, {"hget", "k", "f"}, {""}, {"ECHO", "a\r\nb"}}
	for name, src := range map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := readAll(t, input, src, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d requests, want %d", len(got), len(want))
			}
			for i := range want {
				if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
					t.Fatalf("request %d = %.60q, want %.60q", i, got[i], want[i])
				}
			}
		})
	}
}

func TestReaderLimits(t *testing.T) {
	_, err := readAll(t, "*2\r\n$3\r\nGET\r\n$5000\r\n", func(r io.Reader) io.Reader { return r }, 4096)
	var pe *protocolError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a protocol error", err)
	}
	// The buffer of a large request is dropped afterwards.
	rd := newReader(bytes.NewReader([]byte("*1\r\n$200000\r\n"+strings.Repeat("y", 200000)+"\r\nPING\r\n")), 1<<20)
	for n := 0; n < 2; {
		_, ok, err := rd.next()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			n++
			continue
		}
		if err := rd.fill(); err != nil {
			t.Fatal(err)
		}
	}
	rd.fill() // EOF; the buffer is reset first
	if len(rd.buf) != readBufSize {
		t.Fatalf("buffer of %d bytes kept after a large request", len(rd.buf))
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	names := [][]byte{[]byte("HGET"), []byte("hset"), []byte("Session.PropGet"), []byte("nosuchcommand")}
	allocs := testing.AllocsPerRun(100, func() {
		for _, n := range names {
			lookup(n)
		}
	})
	if allocs != 0 {
		t.Fatalf("lookup allocates %.1f times", allocs)
	}
	table := newCommandTable()
	for id := range numCommands {
		name := []byte(strings.ToUpper(table[id].name))
		if got := lookup(name); got != id {
			t.Fatalf("lookup(%q) = %d, want %d", name, got, id)
		}
	}
}

// TestHotPathAllocations bounds the allocations of HGET and HSET on a
// standalone node: HGET allocates the value the store returns and nothing
// else; HSET overwriting values of the same sizes allocates nothing at all
// (the id and keys are borrowed from the input buffer, the store writes in
// place): a million sessions overwritten leave no garbage behind.
func TestHotPathAllocations(t *testing.T) {
	n := startNode(t, Config{})
	c := newConn(n.srv, &memConn{in: bytes.NewReader(nil)}, 1)
	v := bytes.Repeat([]byte("v"), 100)
	hset := [][]byte{[]byte("HSET"), []byte("session:0001"), []byte("field1"), v}
	hset5 := [][]byte{[]byte("HSET"), []byte("session:000000000002")}
	for i := 1; i <= 5; i++ {
		hset5 = append(hset5, []byte("field:"+strconv.Itoa(i)), v)
	}
	hget := [][]byte{[]byte("HGET"), []byte("session:0001"), []byte("field1")}
	c.exec(hset)
	c.exec(hset5)
	for _, tc := range []struct {
		name string
		args [][]byte
		max  float64
	}{
		{"HGET", hget, 0},   // the value appended to the connection's buffer
		{"HSET", hset, 0},   // an overwrite in place
		{"HSET5", hset5, 0}, // memory-compare.sh's request
	} {
		allocs := testing.AllocsPerRun(200, func() {
			c.exec(tc.args)
			c.out.b = c.out.b[:0]
		})
		t.Logf("%s: %.1f allocations", tc.name, allocs)
		if allocs > tc.max {
			t.Errorf("%s allocates %.1f times per request, want at most %.0f", tc.name, allocs, tc.max)
		}
	}
}

// The request limit counts every byte of the request, its "*N" line
// included; a count that cannot fit is an invalid multibulk length.
func TestReaderLimitCountsTheWholeRequest(t *testing.T) {
	whole := func(r io.Reader) io.Reader { return r }
	// "*1\r\n" (4) + "$4083\r\n" (7) + 4083 + "\r\n" (2) = 4096 bytes.
	atLimit := "*1\r\n$4083\r\n" + strings.Repeat("a", 4083) + "\r\n"
	if got, err := readAll(t, atLimit, whole, 4096); err != nil || len(got) != 1 || len(got[0][0]) != 4083 {
		t.Fatalf("a request of exactly the limit: %d requests, %v", len(got), err)
	}
	over := "*1\r\n$4084\r\n" + strings.Repeat("a", 4084) + "\r\n"
	_, err := readAll(t, over, whole, 4096)
	var pe *protocolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "request exceeds the limit of 4096 bytes") {
		t.Fatalf("a request one byte over the limit (its *1 line counted): err = %v", err)
	}
	for _, tc := range []struct {
		input  string
		maxReq int
	}{
		{"*1048576\r\n", 1 << 20},
		{"*1048577\r\n", 64 << 20},
		{"*99999999999\r\n", 64 << 20},
	} {
		_, err := readAll(t, tc.input, whole, tc.maxReq)
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "Protocol error: invalid multibulk length") {
			t.Errorf("%q with limit %d: err = %v, want invalid multibulk length", tc.input, tc.maxReq, err)
		}
	}
}

// BenchmarkLookup measures the command lookup of the dispatch path (the
// names of a chatbot turn, mixed case); it must report 0 allocs/op.
func BenchmarkLookup(b *testing.B) {
	names := [][]byte{[]byte("HGET"), []byte("hset"), []byte("HGETALL"), []byte("Session.PropGet"), []byte("EXPIRE"), []byte("nosuchcommand")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		lookup(names[i%len(names)])
	}
}
