package grid

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/sessiongrid/sessiongrid/partition"
)

// TableLog is where the partition table's history lives: in production the
// Raft log (replication.Globals), in unit tests an in-memory log.
//
// Concurrency: every method is safe for concurrent use. Current never
// blocks. Propose may block until the change is committed or ctx ends.
type TableLog interface {
	// Current returns the table in force as applied on this member (epoch 0
	// and no partitions before the first table).
	Current() partition.Table
	// Propose commits next as the table in force if the table in force
	// still has epoch next.Epoch-1 (compare and set). Only the coordinator
	// may propose; others get ErrNotCoordinator.
	Propose(ctx context.Context, next partition.Table) error
	// Changed returns a channel that receives a value (coalesced, never
	// blocking the log) after each new table is applied on this member.
	Changed() <-chan struct{}
	// Coordinator returns the member name of the coordinator, "" if unknown.
	Coordinator() string
	// IsCoordinator reports whether this member coordinates now.
	IsCoordinator() bool
}

// Errors of table changes.
var (
	// ErrNotCoordinator reports a table change asked of a member that does
	// not coordinate.
	ErrNotCoordinator = errors.New("grid: not the coordinator")
)

// MemLog is an in-memory TableLog shared by the members of one test grid:
// one history, one coordinator chosen by name. Views give each member its
// own Changed channel.
type MemLog struct {
	mu          sync.Mutex // guards the fields below
	table       partition.Table
	history     []partition.Table
	coordinator string
	subs        []chan struct{}
	views       map[string]chan struct{}    // member -> its Changed channel
	held        map[string]*partition.Table // members whose view is frozen
}

// Hold freezes member name's view of the log at the table in force (as a
// member cut off from the coordinator, or paused, sees it): it gets no new
// table until Release. Tests delay a member's table with it.
func (l *MemLog) Hold(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = map[string]*partition.Table{}
	}
	t := l.table
	l.held[name] = &t
}

// Release ends a Hold: the member sees the table in force.
func (l *MemLog) Release(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, name)
	if ch := l.views[name]; ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// History returns every table committed so far, in epoch order (tests
// check invariants over every epoch).
func (l *MemLog) History() []partition.Table {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.history)
}

// NewMemLog returns an empty log whose coordinator is the named member.
func NewMemLog(coordinator string) *MemLog { return &MemLog{coordinator: coordinator} }

// SetCoordinator moves the coordinator role (a leader change).
func (l *MemLog) SetCoordinator(name string) {
	l.mu.Lock()
	l.coordinator = name
	l.mu.Unlock()
}

// Coordinator returns the coordinating member's name.
func (l *MemLog) Coordinator() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.coordinator
}

// Epoch returns the epoch of the table in force.
func (l *MemLog) Epoch() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.table.Epoch
}

// View returns member name's view of the log.
func (l *MemLog) View(name string) TableLog {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	l.subs = append(l.subs, ch)
	if l.views == nil {
		l.views = map[string]chan struct{}{}
	}
	l.views[name] = ch
	l.mu.Unlock()
	return &memView{log: l, name: name, ch: ch}
}

type memView struct {
	log  *MemLog
	name string
	ch   chan struct{}
}

func (v *memView) Current() partition.Table {
	v.log.mu.Lock()
	defer v.log.mu.Unlock()
	if t := v.log.held[v.name]; t != nil {
		return *t
	}
	return v.log.table
}

func (v *memView) Propose(_ context.Context, next partition.Table) error {
	l := v.log
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.coordinator != v.name || l.held[v.name] != nil {
		return ErrNotCoordinator
	}
	if next.Epoch != l.table.Epoch+1 {
		return fmt.Errorf("%w: proposal for epoch %d, table in force %d", partition.ErrStaleTable, next.Epoch, l.table.Epoch)
	}
	l.table = next.Clone()
	l.history = append(l.history, l.table)
	for _, ch := range l.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return nil
}

func (v *memView) Changed() <-chan struct{} { return v.ch }

func (v *memView) Coordinator() string {
	v.log.mu.Lock()
	defer v.log.mu.Unlock()
	return v.log.coordinator
}

func (v *memView) IsCoordinator() bool { return v.Coordinator() == v.name }
