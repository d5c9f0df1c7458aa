package grid

// SetDropBackup makes n lose (not send) the replication messages to the
// members drop selects: a message lost on the network, for tests.
func SetDropBackup(n *Node, drop func(member string) bool) { n.dropBackup.Store(&drop) }
