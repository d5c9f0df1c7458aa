package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
)

func sampleRecords() []Record {
	var data, props Pairs
	data, _ = data.Set([]session.Field{{Key: "stage", Value: []byte(`"menu"`)}, {Key: "ids", Value: bytes.Repeat([]byte("x"), 300)}, {Key: "empty", Value: nil}})
	props, _ = props.Set([]session.Field{{Key: "name", Value: []byte(`"Ada"`)}})
	return []Record{
		{Header: Header{Kind: KindSession, Touched: 1767323045000000000, Idle: 1800e9}, ID: []byte("263771234567"), Data: data, Props: props},
		{Header: Header{Kind: KindSession, Touched: -5, Deadline: 99}, ID: []byte("x"), Props: props},
		{Header: Header{Kind: KindSession, Touched: 1, Idle: 1}, ID: bytes.Repeat([]byte("L"), 5000), Data: data},
		{Header: Header{Kind: KindGlobal}, ID: []byte("motd"), Value: []byte(`"hello"`)},
		{Header: Header{Kind: KindGlobal}, ID: []byte("g"), Value: nil},
	}
}

// same reports whether two decoded records hold the same content.
func same(a, b Record) bool {
	return a.Kind == b.Kind && a.Touched == b.Touched && a.Idle == b.Idle && a.Deadline == b.Deadline &&
		bytes.Equal(a.ID, b.ID) && bytes.Equal(a.Value, b.Value) &&
		reflect.DeepEqual(a.Data.Map(), b.Data.Map()) && reflect.DeepEqual(a.Props.Map(), b.Props.Map())
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range sampleRecords() {
		b := r.Encode()
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("decode(encode(%q)): %v", r.ID[:min(len(r.ID), 20)], err)
		}
		if !same(got, r) {
			t.Fatalf("round trip changed the record %q", r.ID[:min(len(r.ID), 20)])
		}
		h, err := DecodeHeader(b)
		if err != nil || h.Touched != r.Touched || h.Idle != r.Idle || h.Deadline != r.Deadline || h.Kind != r.Kind {
			t.Fatalf("decodeHeader = %+v, %v", h, err)
		}
		// Every single-bit flip is detected.
		for i := range len(b) * 8 {
			c := bytes.Clone(b)
			c[i/8] ^= 1 << (i % 8)
			if _, err := Decode(c); !errors.Is(err, ErrMalformed) {
				t.Fatalf("bit %d flipped: decode error %v, want ErrMalformed", i, err)
			}
		}
		// Every truncation is detected.
		for n := range len(b) {
			if _, err := Decode(b[:n]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("cut to %d bytes: decode error %v", n, err)
			}
		}
	}
}

func TestPairs(t *testing.T) {
	var p Pairs
	p, added := p.Set([]session.Field{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}, {Key: "a", Value: []byte("3")}})
	if added != 2 || p.n != 2 {
		t.Fatalf("set: added %d, n %d; want 2, 2", added, p.n)
	}
	if v, ok := p.Get("a"); !ok || string(v) != "3" {
		t.Fatalf("get(a) = %q, %v; the later duplicate wins", v, ok)
	}
	p, added = p.Set([]session.Field{{Key: "b", Value: []byte("22")}, {Key: "c", Value: nil}})
	if added != 1 || p.n != 3 {
		t.Fatalf("second set: added %d, n %d", added, p.n)
	}
	q, removed := p.Delete("a", "zz", "a")
	if removed != 1 || q.n != 2 {
		t.Fatalf("del: removed %d, n %d", removed, q.n)
	}
	if _, ok := p.Get("a"); !ok {
		t.Fatal("del modified the pairs in place")
	}
	q, dropped := p.Retain([]string{"c", "nope"})
	if dropped != 2 || !reflect.DeepEqual(q.Map(), map[string][]byte{"c": {}}) {
		t.Fatalf("retain: dropped %d, %v", dropped, q.Map())
	}
	q, dropped = q.Retain(nil)
	if dropped != 1 || q.n != 0 || len(q.b) != 0 {
		t.Fatalf("retain(nil): dropped %d, %+v", dropped, q)
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to the decoder: it must never
// panic, and whatever it accepts must survive a re-encode and every pairs
// operation.
func FuzzDecodeRecord(f *testing.F) {
	for _, r := range sampleRecords() {
		b := r.Encode()
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte("sgr\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
		// Again with the checksum fixed up, so that mutations reach the
		// structure behind it.
		if len(b) >= trailerLen {
			b = bytes.Clone(b)
			binary.LittleEndian.PutUint32(b[len(b)-trailerLen:], crc32.Checksum(b[:len(b)-trailerLen], castagnoli))
			checkDecode(t, b)
		}
	})
}

func checkDecode(t *testing.T, b []byte) {
	{
		if _, err := DecodeHeader(b); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("DecodeHeader error %v does not wrap ErrMalformed", err)
		}
		r, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode error %v does not wrap ErrMalformed", err)
			}
			return
		}
		again, err := Decode(r.Encode())
		if err != nil || !same(again, r) {
			t.Fatalf("re-encoding a decoded record: %v", err)
		}
		for _, p := range []Pairs{r.Data, r.Props} {
			m := p.Map()
			for k := range m {
				if _, ok := p.Get(k); !ok {
					t.Fatalf("key %q listed but not found", k)
				}
			}
			q, _ := p.Set([]session.Field{{Key: "k", Value: []byte("v")}})
			q, _ = q.Delete("k")
			_, _ = q.Retain([]string{"a"})
		}
		r.Live(0)
	}
}
