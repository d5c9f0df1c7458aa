package replication

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/sessiongrid/sessiongrid/internal/loglimit"
	"github.com/sessiongrid/sessiongrid/internal/testcert"
	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/transport"
)

// newSecretGrid starts size servers whose member ports require secret.
func newSecretGrid(t *testing.T, size int, secret string) *testGrid {
	t.Helper()
	tg := newEmptyGrid(t, nil)
	tg.secret = []byte(secret)
	for range size {
		tg.addNode("server", size)
	}
	tg.waitLeader()
	return tg
}

// attacker is a Raft client as an attacker on the network would run one:
// hashicorp/raft's own NetworkTransport over a stream layer of its choice.
type attacker struct {
	trans *raft.NetworkTransport
	addr  string
}

// plainStream is a stream layer with no handshake.
type plainStream struct{ net.Listener }

func (p plainStream) Dial(a raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(a), timeout)
}

func newAttacker(t *testing.T, stream func(ln net.Listener) raft.StreamLayer) *attacker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	trans := raft.NewNetworkTransport(stream(ln), 1, 5*time.Second, io.Discard)
	t.Cleanup(func() { trans.Close() })
	return &attacker{trans: trans, addr: ln.Addr().String()}
}

func (a *attacker) header() raft.RPCHeader {
	return raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("attacker"), Addr: []byte(a.addr)}
}

// forgeAppend sends an AppendEntries from a "leader" of a newer term that
// continues gn's log with a global and a partition table of one partition.
func (a *attacker) forgeAppend(gn *gridNode) (*raft.AppendEntriesResponse, error) {
	st := gn.g.raft.Stats()
	term, _ := strconv.ParseUint(st["term"], 10, 64)
	last, _ := strconv.ParseUint(st["last_log_index"], 10, 64)
	lastTerm, _ := strconv.ParseUint(st["last_log_term"], 10, 64)
	req := &raft.AppendEntriesRequest{
		RPCHeader:    a.header(),
		Term:         term + 1,
		PrevLogEntry: last,
		PrevLogTerm:  lastTerm,
		Entries: []*raft.Log{
			{Index: last + 1, Term: term + 1, Type: raft.LogCommand, Data: encodeCommand(opSave, "forged", []byte("x"))},
			{Index: last + 2, Term: term + 1, Type: raft.LogCommand, Data: encodeTableCommand(1<<20, 1, []byte("t"))},
		},
		LeaderCommitIndex: last + 2,
	}
	var resp raft.AppendEntriesResponse
	err := a.trans.AppendEntries(raft.ServerID(gn.name), raft.ServerAddress(gn.raftAddr), req, &resp)
	return &resp, err
}

// forgeVote asks gn for its vote in a leadership transfer of a far newer
// term (a leader that grants it steps down).
func (a *attacker) forgeVote(gn *gridNode) error {
	req := &raft.RequestVoteRequest{
		RPCHeader: a.header(), Term: gn.g.raft.CurrentTerm() + 50,
		LastLogIndex: 1 << 40, LastLogTerm: 1 << 40, LeadershipTransfer: true,
	}
	var resp raft.RequestVoteResponse
	return a.trans.RequestVote(raft.ServerID(gn.name), raft.ServerAddress(gn.raftAddr), req, &resp)
}

// With a cluster secret, Raft RPCs forged by a peer without it are refused
// before Raft decodes them: no global is written, no table changes, no
// term moves, the leader stays. The same RPCs from a peer holding the
// secret are accepted, which shows the forgeries are real ones.
func TestForgedRaftRPCsRefused(t *testing.T) {
	tg := newSecretGrid(t, 3, "cluster-secret")
	wrongSecret := newAuthTransport(t, func(c *transport.Config) { c.Secret = []byte("guessed-secret") })
	checkForgedRPCsRefused(t, tg, map[string]*attacker{
		"plain":        newAttacker(t, func(ln net.Listener) raft.StreamLayer { return plainStream{ln} }),
		"wrong secret": newAttacker(t, authStream(tg, wrongSecret.Authenticator())),
	})
}

// The same with cluster TLS (and no secret): a peer without a certificate
// of the cluster CA cannot deliver an RPC.
func TestForgedRaftRPCsRefusedWithClusterTLS(t *testing.T) {
	ca, other := testcert.NewCA(t, "cluster-ca"), testcert.NewCA(t, "other-ca")
	tg := newEmptyGrid(t, nil)
	tg.tls = func(name string) *tls.Config { return transport.NewMemberTLS(ca.Issue(t, name).TLS, ca.Pool()) }
	for range 3 {
		tg.addNode("server", 3)
	}
	tg.waitLeader()
	otherCA := newAuthTransport(t, func(c *transport.Config) {
		c.TLS = transport.NewMemberTLS(other.Issue(t, "intruder").TLS, other.Pool())
	})
	noTLS := newAuthTransport(t, nil)
	checkForgedRPCsRefused(t, tg, map[string]*attacker{
		"plain":             newAttacker(t, func(ln net.Listener) raft.StreamLayer { return plainStream{ln} }),
		"handshake, no TLS": newAttacker(t, authStream(tg, noTLS.Authenticator())),
		"other CA":          newAttacker(t, authStream(tg, otherCA.Authenticator())),
	})
}

// newAuthTransport returns a transport (closed at the end of the test)
// whose Authenticator an attacker borrows.
func newAuthTransport(t *testing.T, mutate func(*transport.Config)) *transport.Transport {
	t.Helper()
	tcfg := transport.DefaultLocalConfig()
	if mutate != nil {
		mutate(&tcfg)
	}
	tr, err := transport.New(tcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close(context.Background()) })
	return tr
}

// authStream is a stream layer that runs the members' handshake with auth.
func authStream(tg *testGrid, auth *transport.Authenticator) func(net.Listener) raft.StreamLayer {
	return func(ln net.Listener) raft.StreamLayer {
		return &streamLayer{Listener: ln, advertise: ln.Addr(), auth: auth, log: tg.log, refusals: loglimit.New(10, time.Minute)}
	}
}

// checkForgedRPCsRefused sends forged AppendEntries and RequestVote RPCs
// from every attacker to every member of tg and checks that nothing
// changed; then a peer with a member's credentials delivers the same
// forgery.
func checkForgedRPCsRefused(t *testing.T, tg *testGrid, attackers map[string]*attacker) {
	t.Helper()
	leader := tg.waitLeader()
	lname := tg.nodes[leader].name
	if err := tg.nodes[leader].g.Save(ctxT(t, 5*time.Second), "real", []byte("1")); err != nil {
		t.Fatal(err)
	}
	type state struct {
		term  uint64
		epoch uint64
	}
	before := make([]state, len(tg.nodes))
	for i, gn := range tg.nodes {
		e, _ := gn.g.Table()
		before[i] = state{gn.g.raft.CurrentTerm(), e}
	}
	for name, a := range attackers {
		for _, gn := range tg.nodes {
			if _, err := a.forgeAppend(gn); err == nil {
				t.Errorf("%s: forged AppendEntries to %s was answered", name, gn.name)
			}
			if err := a.forgeVote(gn); err == nil {
				t.Errorf("%s: forged RequestVote to %s was answered", name, gn.name)
			}
		}
	}
	// The RPCs failed in the handshake, before any byte reached Raft, so
	// the state can be checked at once.
	for i, gn := range tg.nodes {
		if _, ok := gn.g.fsm.get("forged"); ok {
			t.Errorf("%s: the forged global was written", gn.name)
		}
		e, _ := gn.g.Table()
		if now := (state{gn.g.raft.CurrentTerm(), e}); now != before[i] {
			t.Errorf("%s: term/table epoch %+v, before the attack %+v", gn.name, now, before[i])
		}
		if l := gn.g.Leader(); l != lname {
			t.Errorf("%s: leader %q, before the attack %q", gn.name, l, lname)
		}
	}
	if t.Failed() {
		return
	}

	// Control: a peer with a member's credentials delivers the same
	// forgery. (The forged table has one partition and is refused by every
	// member's state machine all the same.)
	insider := newAttacker(t, authStream(tg, tg.nodes[leader].tr.Authenticator()))
	victim := tg.nodes[(leader+1)%len(tg.nodes)]
	testpoll.Until(t, 10*time.Second, "the insider's forged global on "+victim.name, func() bool {
		_, _ = insider.forgeAppend(victim) // retried: the real leader's entries may race it
		_, ok := victim.g.fsm.get("forged")
		return ok
	})
	if e, _ := victim.g.Table(); e >= 1<<20 {
		t.Fatalf("%s took a one-partition table into force", victim.name)
	}
}

// A Raft connection that sends a byte and then nothing is closed once the
// handshake timeout runs out.
func TestRaftIdleConnectionClosed(t *testing.T) {
	tg := newSecretGrid(t, 1, "cluster-secret")
	c, err := net.Dial("tcp", tg.nodes[0].raftAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("connection not closed by the node: %v (read %q)", err, got)
	}
}

// A table proposed for another partition count is refused by every member
// before it takes effect, and the next valid table still applies.
func TestTableOfOtherPartitionCountRefused(t *testing.T) {
	tg := newGrid(t, 3, 3, false, nil)
	leader := tg.waitLeader()
	g := tg.nodes[leader].g
	if g.partitions <= 0 {
		t.Fatalf("the grid's partition count is %d", g.partitions)
	}
	want := g.partitions
	g.partitions = want + 1 // as a member configured with another count would propose
	err := g.ProposeTable(ctxT(t, 5*time.Second), 1, []byte("wrong"))
	g.partitions = want
	if !errors.Is(err, ErrTablePartitions) {
		t.Fatalf("err = %v, want ErrTablePartitions", err)
	}
	if err := g.ProposeTable(ctxT(t, 5*time.Second), 1, []byte("right")); err != nil {
		t.Fatalf("the next valid table: %v", err)
	}
	testpoll.Until(t, 10*time.Second, "the valid table on every member", func() bool {
		for _, gn := range tg.nodes {
			if e, b := gn.g.Table(); e != 1 || string(b) != "right" {
				return false
			}
		}
		return true
	})
}
