package grid

import (
	"context"
	"testing"

	"github.com/sessiongrid/sessiongrid/session/memory"
)

// FuzzWire feeds arbitrary bytes to every decoder of the internal protocol
// and to the operation executor: nothing may panic, whatever a peer sends.
func FuzzWire(f *testing.F) {
	f.Add(request{op: opSave, epoch: 3, partition: 7, args: bs("u1", "k", "v")}.encode())
	f.Add(request{op: opSetString, epoch: 1, args: [][]byte{[]byte("k"), []byte("v"), {9}, nil, i64(5), {3}}}.encode())
	f.Add(request{op: opClear, args: [][]byte{[]byte("u"), {}}}.encode())
	f.Add(encodeResponse([]byte("x"), nil))
	f.Add(encodeRedirect(42))
	f.Add(appendRecord(nil, memory.Record{Key: "k", Kind: 1}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	s, err := memory.New(memory.Config{SweepInterval: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeResponse(b)
		decodeRecord(b)
		DecodeTable(b)
		decodeList(b)
		if req, err := decodeRequest(b); err == nil && len(req.args) > 0 {
			exec(context.Background(), s, req.op, req.args)
		}
	})
}

func TestRequestRoundTrip(t *testing.T) {
	in := request{op: opEvict, epoch: 1 << 40, partition: 270, args: bs("id", "a", "", "c")}
	out, err := decodeRequest(in.encode())
	if err != nil || out.op != in.op || out.epoch != in.epoch || out.partition != in.partition || len(out.args) != 4 || string(out.args[3]) != "c" {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
	if _, err := decodeRequest(append(in.encode(), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}
