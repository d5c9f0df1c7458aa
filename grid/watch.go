package grid

import (
	"sync/atomic"

	"github.com/sessiongrid/sessiongrid/partition"
)

// Write watching, for the RESP server's WATCH (server.WriteWatcher).

// watchHooks are the functions the RESP server gives a node: written is
// called after every write of a key this member leads, and gate runs the
// operations other members send.
type watchHooks struct {
	written func(key string)
	gate    func(run func())
}

// SetWatchHooks makes the node call written(key) after every write of a
// key of a partition it leads (whoever made it, before the write is
// acknowledged), and run the operations other members send it inside gate.
// Call it before the node serves clients.
func (n *Node) SetWatchHooks(written func(key string), gate func(run func())) {
	n.hooks.Store(&watchHooks{written: written, gate: gate})
}

// Generation returns a number that changes every time this member starts
// or stops leading key's partition.
func (n *Node) Generation(key string) uint64 {
	return n.parts[partition.ID(key, n.cfg.Partitions)].gen.Load()
}

// hookOf returns the node's watch hooks (nil when none are set).
func hookOf(h *atomic.Pointer[watchHooks]) *watchHooks { return h.Load() }
