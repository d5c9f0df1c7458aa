package replication

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/sessiongrid/sessiongrid/partition"
)

func TestFSMTableCompareAndSetAndSnapshot(t *testing.T) {
	f := newFSM()
	if r := applyCmd(f, 1, encodeTableCommand(1, 0, []byte("t1"))); r != nil {
		t.Fatalf("first table: %v", r)
	}
	select {
	case <-f.tableCh:
	default:
		t.Fatal("no change signalled")
	}
	for _, epoch := range []uint64{1, 3} {
		r := applyCmd(f, 2, encodeTableCommand(epoch, 0, []byte("bad")))
		if err, _ := r.(error); !errors.Is(err, partition.ErrStaleTable) {
			t.Fatalf("epoch %d after 1: %v", epoch, r)
		}
	}
	applyCmd(f, 3, encodeTableCommand(2, 0, []byte("t2")))
	applyCmd(f, 4, encodeCommand(opSave, "g", []byte("v")))
	if e, b := f.currentTable(); e != 2 || string(b) != "t2" {
		t.Fatalf("table %d %q", e, b)
	}
	snap, _ := f.Snapshot()
	var buf bytes.Buffer
	s := snap.(*fsmSnapshot)
	if err := writeSnapshot(&buf, s.m, s.tableEpoch, s.table); err != nil {
		t.Fatal(err)
	}
	g := newFSM()
	if err := g.Restore(io.NopCloser(bytes.NewReader(buf.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if e, b := g.currentTable(); e != 2 || string(b) != "t2" {
		t.Fatalf("restored table %d %q", e, b)
	}
	if v, ok := g.get("g"); !ok || string(v) != "v" {
		t.Fatalf("restored global %q", v)
	}
	// A version 1 snapshot (globals only) still restores, with no table.
	var v1 bytes.Buffer
	writeSnapshot(&v1, map[string][]byte{"x": []byte("1")}, 0, nil)
	old := v1.Bytes()
	old[len(snapshotMagic)] = 1
	old = old[:len(old)-2] // v1 had no table trailer
	m, _, e, tb, err := readSnapshot(bufio.NewReader(bytes.NewReader(old)))
	if err != nil || string(m["x"]) != "1" || e != 0 || tb != nil {
		t.Fatalf("v1 snapshot: %v %v %d %q", m, err, e, tb)
	}
}

func TestFSMRefusesTableOfOtherPartitionCount(t *testing.T) {
	f := newFSM()
	f.partitions = 271
	r := applyCmd(f, 1, encodeTableCommand(1, 7, []byte("t")))
	if err, _ := r.(error); !errors.Is(err, ErrTablePartitions) {
		t.Fatalf("result %v, want ErrTablePartitions", r)
	}
	if e, b := f.currentTable(); e != 0 || b != nil {
		t.Fatalf("table %d %q after a refused proposal", e, b)
	}
	if r := applyCmd(f, 2, encodeTableCommand(1, 271, []byte("t"))); r != nil {
		t.Fatalf("valid table: %v", r)
	}
	// Tables written by older versions carry no count and still apply.
	legacy := append([]byte{opTable, 2}, "old"...)
	if r := applyCmd(f, 3, legacy); r != nil {
		t.Fatalf("legacy table: %v", r)
	}
	if e, b := f.currentTable(); e != 2 || string(b) != "old" {
		t.Fatalf("table %d %q", e, b)
	}
	// Truncated commands never panic.
	for _, cmd := range [][]byte{{opTableChecked}, {opTableChecked, 3}, {opTable}} {
		if r, _ := applyCmd(f, 4, cmd).(error); !errors.Is(r, errBadCommand) {
			t.Fatalf("%x: %v", cmd, r)
		}
	}
}
