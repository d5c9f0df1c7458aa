package grid

import (
	"context"
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
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
	rec := memory.Record{Key: "u1", Kind: 1, Data: []session.Field{{Key: "a", Value: []byte("b")}}}
	f.Add(appendEntry(nil, entry{seq: 9, kind: entryRecord, rec: rec}))
	f.Add(appendEntry(nil, entry{seq: 10, kind: entryDelete, key: "u1"}))
	f.Add(appendEntry(nil, entry{seq: 11, kind: entryMulti, multi: []entry{{kind: entryRecord, rec: rec}, {kind: entryDelete, key: "u2"}}}))
	f.Add(appendEntry(nil, entry{seq: 12, kind: entryCheck, sum: 1 << 60, keys: 3}))
	f.Add(backupReply(backupOK, 7))
	s, err := memory.New(memory.Config{SweepInterval: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeResponse(b)
		decodeRecord(b)
		DecodeTable(b)
		decodeList(b)
		decodeEntry(b)
		decodeMulti(b)
		decodeBackupReply(b)
		decodeFrameReply(b, make([]byte, 2), make([]uint64, 2))
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

func TestEntryRoundTrip(t *testing.T) {
	rec := memory.Record{Key: "u1", Kind: session.KindSession, Data: []session.Field{{Key: "a", Value: []byte("b")}}}
	in := entry{seq: 11, kind: entryMulti, multi: []entry{{kind: entryRecord, rec: rec}, {kind: entryDelete, key: "u2"}}}
	out, rest, err := decodeEntry(appendEntry(nil, in))
	if err != nil || len(rest) != 0 || out.seq != 11 || len(out.multi) != 2 || out.multi[0].key != "u1" ||
		string(out.multi[0].rec.Data[0].Value) != "b" || out.multi[1].kind != entryDelete || out.multi[1].key != "u2" {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
	chk, _, err := decodeEntry(appendEntry(nil, entry{seq: 12, kind: entryCheck, sum: 1 << 60, keys: 3}))
	if err != nil || chk.sum != 1<<60 || chk.keys != 3 {
		t.Fatalf("check entry: %+v, %v", chk, err)
	}
}
