package transport

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	frames := []Frame{
		{Kind: KindRequest, Type: 7, ID: 1, TimeoutMillis: 500, Payload: []byte("hello")},
		{Kind: KindResponse, Type: 7, ID: 1<<64 - 1, Payload: []byte{}},
		{Kind: KindError, Type: 1, ID: 3, Payload: errorPayload(8, "no quorum")},
	}
	var buf []byte
	for _, f := range frames {
		buf = AppendFrame(buf, f)
	}
	r := bytes.NewReader(buf)
	for i, want := range frames {
		got, err := ReadFrame(r, 1<<20)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.Kind != want.Kind || got.Type != want.Type || got.ID != want.ID ||
			got.TimeoutMillis != want.TimeoutMillis || !bytes.Equal(got.Payload, want.Payload) {
			t.Fatalf("frame %d: got %+v, want %+v", i, got, want)
		}
	}
	if _, err := ReadFrame(r, 1<<20); err != io.EOF {
		t.Fatalf("after the last frame: %v, want EOF", err)
	}
}

func TestReadFrameRejects(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"too large", []byte{0x7f, 0xff, 0xff, 0xff}, ErrFrameTooLarge},
		{"shorter than header", []byte{0, 0, 0, 3, 1, 0, 0}, ErrProtocol},
		{"unknown kind", AppendFrame(nil, Frame{Kind: 9}), ErrProtocol},
		{"error without code", AppendFrame(nil, Frame{Kind: KindError}), ErrProtocol},
		{"truncated body", AppendFrame(nil, Frame{Kind: KindRequest, Payload: []byte("abc")})[:10], io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(tc.in), 1<<20)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzReadFrame feeds arbitrary bytes to the decoder: it must never panic,
// never return a payload over the limit, and every frame it accepts must
// encode back to the bytes it came from.
func FuzzReadFrame(f *testing.F) {
	f.Add(AppendFrame(nil, Frame{Kind: KindRequest, Type: 1, ID: 42, TimeoutMillis: 100, Payload: []byte("x")}))
	f.Add(AppendFrame(nil, Frame{Kind: KindError, Type: 1, ID: 42, Payload: errorPayload(1, "not found")}))
	f.Add([]byte("*1\r\n$4\r\nPING\r\n"))
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 4096
		r := bytes.NewReader(in)
		for {
			start := len(in) - r.Len()
			fr, err := ReadFrame(r, limit)
			if err != nil {
				return
			}
			if len(fr.Payload)+HeaderSize > limit {
				t.Fatalf("payload of %d bytes over the limit", len(fr.Payload))
			}
			end := len(in) - r.Len()
			if re := AppendFrame(nil, fr); !bytes.Equal(re, in[start:end]) {
				t.Fatalf("re-encoding differs:\n got %x\nwant %x", re, in[start:end])
			}
		}
	})
}
