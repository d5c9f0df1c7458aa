package grid

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/transport"
)

// RemoteLog is the TableLog of a member that runs no Raft server (an
// embedded bot peer or a lite member): it follows the table by asking a
// server member for it every interval. It never coordinates.
type RemoteLog struct {
	mem      Membership
	tr       *transport.Transport
	interval time.Duration

	mu          sync.Mutex // guards table and coordinator
	table       partition.Table
	coordinator string
	ch          chan struct{}

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewRemoteLog starts following the table held by the grid's servers.
// Close stops it.
func NewRemoteLog(mem Membership, tr *transport.Transport, interval time.Duration) *RemoteLog {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	l := &RemoteLog{mem: mem, tr: tr, interval: interval, ch: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	return l
}

func (l *RemoteLog) loop() {
	defer close(l.done)
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		l.poll()
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
	}
}

// poll asks one server for its table and keeps it if it is newer.
func (l *RemoteLog) poll() {
	for _, m := range l.mem.Members() {
		if m.Role != cluster.RoleServer || m.State != cluster.StateAlive || m.Addrs.Transport == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		b, err := l.tr.Call(ctx, m.Addrs.Transport, msgTable, nil)
		cancel()
		if err != nil {
			continue
		}
		t, coord, err := decodeTableReply(b)
		if err != nil {
			continue
		}
		l.mu.Lock()
		if coord != "" {
			l.coordinator = coord
		}
		newer := t.Epoch > l.table.Epoch
		if newer {
			l.table = t
		}
		l.mu.Unlock()
		if newer {
			select {
			case l.ch <- struct{}{}:
			default:
			}
		}
		return
	}
}

// Current implements TableLog.
func (l *RemoteLog) Current() partition.Table {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.table
}

// Propose implements TableLog: a remote log never coordinates.
func (l *RemoteLog) Propose(context.Context, partition.Table) error { return ErrNotCoordinator }

// Changed implements TableLog.
func (l *RemoteLog) Changed() <-chan struct{} { return l.ch }

// Coordinator implements TableLog.
func (l *RemoteLog) Coordinator() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.coordinator
}

// IsCoordinator implements TableLog.
func (l *RemoteLog) IsCoordinator() bool { return false }

// Close stops following. Idempotent.
func (l *RemoteLog) Close() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}

// encodeTableReply is the answer to msgTable: the coordinator's name, then
// the table.
func encodeTableReply(t partition.Table, coordinator string) []byte {
	b := binary.AppendUvarint(nil, uint64(len(coordinator)))
	b = append(b, coordinator...)
	return append(b, encodeTable(t)...)
}

func decodeTableReply(b []byte) (partition.Table, string, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) || n > 1024 {
		return partition.Table{}, "", fmt.Errorf("%w: table reply", errMalformed)
	}
	coord := string(b[k : k+int(n)])
	t, err := DecodeTable(b[k+int(n):])
	return t, coord, err
}
