package server

import (
	"context"
	"strconv"
	"strings"
)

// Grid inspection (GRID.*): the partition table smart clients route with,
// the owner of a key, and the members. A standalone node answers with an
// error: it is not in a grid.

func (c *conn) grid() (Cluster, bool) {
	cl, ok := c.s.backend.(Cluster)
	if !ok {
		c.out.error("ERR this node is not in a grid (start gridnode with --join or --bootstrap-expect)")
	}
	return cl, ok
}

// gridTable is GRID.TABLE [TLS|PLAIN]: [epoch, [owner client address of
// each partition]]. The addresses are the owners' TLS ports with TLS, their
// plain ports with PLAIN, and without an argument those of the kind of this
// connection (as Redis Cluster answers a TLS client with TLS ports), so a
// client keeps to what it dialed. An owner without a TLS port is "" in the
// TLS table.
func (c *conn) gridTable(args [][]byte) {
	useTLS := c.isTLS()
	switch {
	case len(args) > 2:
		c.out.error("ERR wrong number of arguments for 'grid.table' command")
		return
	case len(args) == 2 && strings.EqualFold(string(args[1]), "tls"):
		useTLS = true
	case len(args) == 2 && strings.EqualFold(string(args[1]), "plain"):
		useTLS = false
	case len(args) == 2:
		c.out.error("ERR syntax error: GRID.TABLE [TLS|PLAIN]")
		return
	}
	cl, ok := c.grid()
	if !ok {
		return
	}
	epoch, owners := cl.ClusterTable(useTLS)
	c.out.array(2)
	c.out.int(int64(epoch))
	c.out.strings(owners)
}

// gridOwner is GRID.OWNER key: [partition, owner name, owner client address].
func (c *conn) gridOwner(args [][]byte) {
	cl, ok := c.grid()
	if !ok {
		return
	}
	p, owner, addr := cl.ClusterOwner(string(args[1]))
	c.out.array(3)
	c.out.int(int64(p))
	c.out.bulkString(owner)
	c.out.bulkString(addr)
}

// gridMembers is GRID.MEMBERS: one line of "key=value" pairs per member.
func (c *conn) gridMembers(args [][]byte) {
	cl, ok := c.grid()
	if !ok {
		return
	}
	st := cl.ClusterStatus(context.Background())
	lines := make([]string, 0, len(st.Members))
	for _, m := range st.Members {
		line := "name=" + m.Name + " id=" + m.ID + " role=" + m.Role + " state=" + m.State +
			" client=" + m.Client + " primaries=" + strconv.Itoa(m.Primaries) +
			" voter=" + strconv.FormatBool(m.IsVoter) + " leader=" + strconv.FormatBool(m.IsLeader)
		if m.ClientTLS != "" {
			line += " client_tls=" + m.ClientTLS
		}
		lines = append(lines, line)
	}
	c.out.strings(lines)
}

// gridSafe is GRID.SAFE: 1 when the grid is cluster-safe (every partition
// has its full backup count, in sync, and nothing moves), else an error
// reply "NOTSAFE reason" — so a script can wait for it before stopping the
// next member.
func (c *conn) gridSafe(args [][]byte) {
	cl, ok := c.grid()
	if !ok {
		return
	}
	st := cl.ClusterSafe(c.s.ctx)
	if !st.Safe {
		c.out.error("NOTSAFE " + st.Reason)
		return
	}
	c.out.int(1)
}
