package grid

import (
	"bytes"
	"context"
	"testing"
)

// FuzzPublishFrame feeds arbitrary bytes to the handler of published
// messages: it never panics, refuses anything but a list of channel and
// message pairs, and delivers exactly the pairs of a valid frame.
func FuzzPublishFrame(f *testing.F) {
	f.Add(appendList(nil, []byte("news"), []byte("hello"), []byte("__keyevent@0__:expired"), []byte("u1")))
	f.Add(appendList(nil, []byte("odd")))
	f.Add(append(appendList(nil, []byte("a"), []byte("b")), 0))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		n := &Node{}
		var got [][]byte
		sink := func(channel, message []byte) { got = append(got, channel, message) }
		n.OnBroadcast(sink)
		_, err := n.handlePublish(context.Background(), b)
		items, rest, derr := decodeList(b)
		valid := derr == nil && len(rest) == 0 && len(items)%2 == 0
		if valid != (err == nil) {
			t.Fatalf("handlePublish error %v for a frame that is valid=%v", err, valid)
		}
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("a refused frame delivered %q", got)
			}
			return
		}
		if !bytes.Equal(appendList(nil, got...), appendList(nil, items...)) {
			t.Fatalf("delivered %q from frame %x", got, b)
		}
	})
}

// TestListSize: listSize is the exact length of appendList's encoding
// (ForwardBatch sizes its buffer with it), across varint widths.
func TestListSize(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 1 << 21} {
		items := [][]byte{make([]byte, n), nil, []byte("x")}
		for k := range items {
			if got, want := listSize(items[:k]...), len(appendList(nil, items[:k]...)); got != want {
				t.Fatalf("item of %d bytes, %d items: listSize %d, encoding %d", n, k, got, want)
			}
		}
	}
}
