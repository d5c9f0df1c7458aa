// Package cluster is sessiongrid's membership layer: it finds the members of
// the grid, carries their metadata and detects their failures, using
// hashicorp/memberlist (SWIM gossip with Lifeguard).
//
// A [Node] is created with [New] (which binds the gossip port but contacts
// nobody) and then joins with [Node.Join], which retries its seeds until it
// succeeds or the context ends. A node whose join failed must not serve:
// [Node.Ready] keeps returning the reason. A node never forms a cluster of
// its own by accident: seeds that resolve to the node itself are skipped, so
// "--join a,b,c" on node a waits for b or c.
//
// Every member advertises [Meta]: a node id that is new on every start, its
// role, version, partition count, and the addresses of its Raft, internal
// transport and client (RESP) listeners. A member whose metadata is
// incompatible (another partition count, another protocol version, or no
// sessiongrid metadata at all) is refused on both sides with a log line
// that says why; a member with another gossip key cannot decrypt our
// messages and is refused too.
//
// Failure detection: a member that stops answering probes is suspected, then
// declared dead after the suspicion timeout. [Config.DetectionBounds] gives
// the bounds the configuration implies; DefaultLANConfig detects a killed
// member in about 2–3 s on a LAN of 3–5 nodes (measured by
// BenchmarkDetectDeadMember), DefaultLocalConfig in about 1 s.
//
// Several nodes may live in one process: the package has no global state.
package cluster
