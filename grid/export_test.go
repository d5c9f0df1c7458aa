package grid

import "github.com/sessiongrid/sessiongrid/session/memory"

// SetDropBackup makes n lose (not send) the replication messages to the
// members drop selects: a message lost on the network, for tests.
func SetDropBackup(n *Node, drop func(member string) bool) { n.dropBackup.Store(&drop) }

// LocalRecord returns key's record in the copy this member holds, with
// whatever clock that copy has.
func LocalRecord(n *Node, key string) (memory.Record, bool) {
	s := n.parts[n.Partition(key)].store.Load()
	if s == nil {
		return memory.Record{}, false
	}
	return s.Record(key)
}
