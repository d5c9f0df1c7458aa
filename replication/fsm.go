package replication

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sessiongrid/sessiongrid/partition"

	"github.com/hashicorp/raft"
)

// Commands of the globals' Raft log. The first byte of an entry is its
// operation; these values are part of the on-disk format.
const (
	opSave  byte = 1 // key, value
	opEvict byte = 2 // key
	opTable byte = 3 // uvarint epoch, then the partition table (opaque here); written by older versions
	// opTableChecked carries the proposer's partition count, so that every
	// member refuses a table made for another partition count instead of
	// taking it into force (and then ignoring every later table).
	opTableChecked byte = 4 // uvarint epoch, uvarint partition count, then the table
)

// errBadCommand reports a log entry the state machine cannot decode.
var errBadCommand = errors.New("replication: malformed globals command")

// encodeCommand encodes an operation on key (value only for opSave).
func encodeCommand(op byte, key string, value []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(key)+len(value))
	b = append(b, op)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return append(b, value...)
}

// decodeCommand decodes a command; value aliases b.
func decodeCommand(b []byte) (op byte, key string, value []byte, err error) {
	if len(b) < 2 {
		return 0, "", nil, errBadCommand
	}
	op = b[0]
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > uint64(len(b)-1-k) {
		return 0, "", nil, errBadCommand
	}
	rest := b[1+k:]
	key, value = string(rest[:n]), rest[n:]
	switch op {
	case opSave:
	case opEvict:
		if len(value) != 0 {
			return 0, "", nil, errBadCommand
		}
	default:
		return 0, "", nil, errBadCommand
	}
	return op, key, value, nil
}

// fsm is the globals' state machine: a map from key to value.
//
// Concurrency: raft calls Apply, Snapshot and Restore from one goroutine;
// readers call get and all concurrently.
type fsm struct {
	mu   sync.RWMutex // guards m, size, tableEpoch and table
	m    map[string][]byte
	size int64 // bytes of keys and values held, for Status

	// The grid's partition table rides in the same log, so that it has one
	// history (the grid package encodes and decodes it).
	tableEpoch uint64
	table      []byte
	tableCh    chan struct{} // signalled (coalesced) when the table changes

	// applyHook, when set (tests only), is called by Apply before it
	// applies a save or an evict of key; it may block to hold the state
	// machine back.
	applyHook atomic.Pointer[func(key string)]

	// partitions is this member's partition count: a table proposed for
	// another count is refused (0: not checked). Set before Raft starts.
	partitions int
}

func newFSM() *fsm { return &fsm{m: make(map[string][]byte), tableCh: make(chan struct{}, 1)} }

// encodeTableCommand encodes a table proposal for a grid of partitions
// partitions.
func encodeTableCommand(epoch uint64, partitions int, table []byte) []byte {
	b := binary.AppendUvarint([]byte{opTableChecked}, epoch)
	b = binary.AppendUvarint(b, uint64(partitions))
	return append(b, table...)
}

// applyTable applies a table proposal: it takes effect only if it follows
// the table in force (compare and set on the epoch) and, for opTableChecked,
// was made for this member's partition count.
func (f *fsm) applyTable(data []byte, index uint64) any {
	epoch, k := binary.Uvarint(data[1:])
	if k <= 0 {
		return fmt.Errorf("%w at index %d", errBadCommand, index)
	}
	k++ // the op byte
	if data[0] == opTableChecked {
		parts, n := binary.Uvarint(data[k:])
		if n <= 0 {
			return fmt.Errorf("%w at index %d", errBadCommand, index)
		}
		k += n
		if f.partitions > 0 && parts != uint64(f.partitions) {
			return fmt.Errorf("%w: proposal for epoch %d has %d partitions, this grid has %d (index %d)",
				ErrTablePartitions, epoch, parts, f.partitions, index)
		}
	}
	f.mu.Lock()
	if epoch != f.tableEpoch+1 {
		cur := f.tableEpoch
		f.mu.Unlock()
		return fmt.Errorf("%w: proposal for epoch %d, table in force %d", partition.ErrStaleTable, epoch, cur)
	}
	f.tableEpoch, f.table = epoch, slices.Clone(data[k:])
	f.mu.Unlock()
	f.notifyTable()
	return nil
}

func (f *fsm) notifyTable() {
	select {
	case f.tableCh <- struct{}{}:
	default:
	}
}

// currentTable returns the table in force; the slice must not be modified.
func (f *fsm) currentTable() (uint64, []byte) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.tableEpoch, f.table
}

// Apply implements raft.FSM. It returns nil for a save, a bool (whether
// the key existed) for an evict, and an error for a malformed entry.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	if len(l.Data) > 0 && (l.Data[0] == opTable || l.Data[0] == opTableChecked) {
		return f.applyTable(l.Data, l.Index)
	}
	op, key, value, err := decodeCommand(l.Data)
	if err != nil {
		return fmt.Errorf("%w at index %d", err, l.Index)
	}
	if h := f.applyHook.Load(); h != nil {
		(*h)(key)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old, existed := f.m[key]
	if existed {
		f.size -= int64(len(key) + len(old))
	}
	switch op {
	case opSave:
		f.m[key] = slices.Clone(value)
		f.size += int64(len(key) + len(value))
		return nil
	default: // opEvict
		delete(f.m, key)
		return existed
	}
}

// get returns a global; the slice must not be modified.
func (f *fsm) get(key string) ([]byte, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	v, ok := f.m[key]
	return v, ok
}

// all returns a copy of the map; the values must not be modified.
func (f *fsm) all() map[string][]byte {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make(map[string][]byte, len(f.m))
	for k, v := range f.m {
		out[k] = v
	}
	return out
}

func (f *fsm) stats() (keys int, bytes int64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.m), f.size
}

// Snapshot implements raft.FSM. Values are never modified in place, so a
// shallow copy of the map is a consistent snapshot.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	epoch, table := f.currentTable()
	return &fsmSnapshot{m: f.all(), tableEpoch: epoch, table: table}, nil
}

// Restore implements raft.FSM.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	m, size, epoch, table, err := readSnapshot(bufio.NewReader(rc))
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.m, f.size = m, size
	f.tableEpoch, f.table = epoch, table
	f.mu.Unlock()
	f.notifyTable()
	return nil
}

// snapshotMagic opens a globals snapshot; the byte after it is the version.
var snapshotMagic = []byte("SGGLOBAL")

// snapshotVersion 2 adds the partition table after the globals; version
// 1 snapshots (globals only) are still read.
const snapshotVersion = 2

type fsmSnapshot struct {
	m          map[string][]byte
	tableEpoch uint64
	table      []byte
}

// Persist implements raft.FSMSnapshot: magic, version, count, then sorted
// (key, value) pairs, each length-prefixed (uvarint).
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriter(sink)
	err := writeSnapshot(w, s.m, s.tableEpoch, s.table)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("replication: persist globals snapshot: %w", err)
	}
	return sink.Close()
}

// Release implements raft.FSMSnapshot.
func (s *fsmSnapshot) Release() {}

func writeSnapshot(w io.Writer, m map[string][]byte, tableEpoch uint64, table []byte) error {
	var buf []byte
	buf = append(buf, snapshotMagic...)
	buf = append(buf, snapshotVersion)
	buf = binary.AppendUvarint(buf, uint64(len(m)))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		buf = binary.AppendUvarint(buf, uint64(len(k)))
		buf = append(buf, k...)
		buf = binary.AppendUvarint(buf, uint64(len(m[k])))
		buf = append(buf, m[k]...)
		if len(buf) > 64<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	buf = binary.AppendUvarint(buf, tableEpoch)
	buf = binary.AppendUvarint(buf, uint64(len(table)))
	buf = append(buf, table...)
	_, err := w.Write(buf)
	return err
}

// maxSnapshotField bounds one key or value read from a snapshot, so a
// corrupt length cannot make Restore allocate without limit.
const maxSnapshotField = 64 << 20

func readSnapshot(r *bufio.Reader) (m map[string][]byte, size int64, tableEpoch uint64, table []byte, err error) {
	m, size, version, err := readGlobals(r)
	if err != nil || version < 2 {
		return m, size, 0, nil, err
	}
	if tableEpoch, err = binary.ReadUvarint(r); err == nil {
		var n uint64
		if n, err = binary.ReadUvarint(r); err == nil {
			if n > maxSnapshotField {
				err = fmt.Errorf("table of %d bytes", n)
			} else {
				table = make([]byte, n)
				_, err = io.ReadFull(r, table)
			}
		}
	}
	if err != nil {
		return nil, 0, 0, nil, fmt.Errorf("replication: corrupt snapshot (partition table): %w", err)
	}
	return m, size, tableEpoch, table, nil
}

func readGlobals(r *bufio.Reader) (map[string][]byte, int64, byte, error) {
	head := make([]byte, len(snapshotMagic)+1)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, 0, 0, fmt.Errorf("replication: read globals snapshot: %w", err)
	}
	version := head[len(snapshotMagic)]
	if !bytes.Equal(head[:len(snapshotMagic)], snapshotMagic) || version < 1 || version > snapshotVersion {
		return nil, 0, 0, fmt.Errorf("replication: not a globals snapshot of version 1..%d", snapshotVersion)
	}
	count, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("replication: read globals snapshot: %w", err)
	}
	m := make(map[string][]byte, min(count, 1<<16))
	var size int64
	field := func() ([]byte, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if n > maxSnapshotField {
			return nil, fmt.Errorf("field of %d bytes", n)
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return b, err
	}
	for i := uint64(0); i < count; i++ {
		k, err := field()
		if err != nil {
			return nil, 0, 0, fmt.Errorf("replication: corrupt globals snapshot (entry %d): %w", i, err)
		}
		v, err := field()
		if err != nil {
			return nil, 0, 0, fmt.Errorf("replication: corrupt globals snapshot (entry %d): %w", i, err)
		}
		m[string(k)] = v
		size += int64(len(k) + len(v))
	}
	return m, size, version, nil
}
