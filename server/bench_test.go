package server

import (
	"bytes"
	"strconv"
	"testing"
)

// BenchmarkExec measures dispatch and execution (store included, network
// excluded) of the hot commands.
func BenchmarkExec(b *testing.B) {
	n := startNode(b, Config{})
	c := newConn(n.srv, &memConn{in: bytes.NewReader(nil)}, 1)
	val := bytes.Repeat([]byte("v"), 100)
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = []byte("sess:" + strconv.Itoa(i))
		c.exec([][]byte{[]byte("HSET"), keys[i], []byte("field1"), val})
	}
	c.out.b = c.out.b[:0]
	for _, name := range []string{"HSET", "HGET"} {
		b.Run(name, func(b *testing.B) {
			args := [][]byte{[]byte(name), nil, []byte("field1"), val}
			if name == "HGET" {
				args = args[:3]
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				args[1] = keys[i%len(keys)]
				c.exec(args)
				c.out.b = c.out.b[:0]
			}
		})
	}
}

// BenchmarkParse measures the RESP parser on a pipeline of HSETs.
func BenchmarkParse(b *testing.B) {
	var req bytes.Buffer
	for i := range 16 {
		k := "sess:" + strconv.Itoa(i)
		req.WriteString("*4\r\n$4\r\nHSET\r\n$" + strconv.Itoa(len(k)) + "\r\n" + k + "\r\n$6\r\nfield1\r\n$100\r\n")
		req.Write(bytes.Repeat([]byte("x"), 100))
		req.WriteString("\r\n")
	}
	in := req.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	rd := newReader(nil, DefaultMaxRequestBytes)
	for b.Loop() {
		rd.r, rd.w = 0, copy(rd.buf, in)
		for {
			_, ok, err := rd.next()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
		}
	}
}
