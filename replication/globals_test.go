package replication

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/session"
)

// A node alone with BootstrapExpect 1 serves globals (one voter, in
// memory), with the contract's errors.
func TestGlobalsSingleNode(t *testing.T) {
	tg := newGrid(t, 1, 1, false, nil)
	g := tg.nodes[0].g
	ctx := ctxT(t, 10*time.Second)
	if err := g.Save(ctx, "flag", []byte("on")); err != nil {
		t.Fatal(err)
	}
	if v, err := g.Get(ctx, "flag"); err != nil || string(v) != "on" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if v, err := g.Get(ctx, "flag", Stale()); err != nil || string(v) != "on" {
		t.Fatalf("stale Get = %q, %v", v, err)
	}
	if _, err := g.Get(ctx, "missing"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("missing: err = %v", err)
	}
	if err := g.Save(ctx, "", nil); !errors.Is(err, session.ErrInvalidKey) {
		t.Fatalf("empty key: err = %v", err)
	}
	if err := g.Save(ctx, "big", make([]byte, g.cfg.MaxValueSize+1)); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("big value: err = %v", err)
	}
	if err := g.Save(ctx, "empty", nil); err != nil {
		t.Fatalf("empty value: %v", err)
	}
	all, err := g.All(ctx)
	if err != nil || len(all) != 2 || string(all["flag"]) != "on" || len(all["empty"]) != 0 {
		t.Fatalf("All = %q, %v", all, err)
	}
	if existed, err := g.Evict(ctx, "flag"); err != nil || !existed {
		t.Fatalf("Evict = %v, %v", existed, err)
	}
	if existed, err := g.Evict(ctx, "flag"); err != nil || existed {
		t.Fatalf("second Evict = %v, %v", existed, err)
	}
	if st := g.Status(ctx); st.State != "Leader" || !slices.Equal(st.Voters, []string{"n1"}) || st.AppliedIndex == 0 || st.Keys != 1 {
		t.Fatalf("Status = %+v", st)
	}
}

// 3 and 5 servers form one group (BootstrapExpect 3, MaxVoters 3: the
// others are non-voters); a global written on any node is read on every
// node.
func TestGlobalsWriteAnywhereReadEverywhere(t *testing.T) {
	for _, size := range []int{3, 5} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			tg := newGrid(t, size, 3, true, nil)
			ctx := ctxT(t, 30*time.Second)
			testpoll.Until(t, 20*time.Second, "every server in the Raft configuration", func() bool {
				g := tg.nodes[0].g
				return len(g.Voters(ctx)) == 3 && len(g.NonVoters(ctx)) == size-3
			})
			for i, gn := range tg.nodes {
				if err := gn.g.Save(ctx, "k"+strconv.Itoa(i), []byte(gn.name)); err != nil {
					t.Fatalf("save on %s: %v", gn.name, err)
				}
			}
			for _, gn := range tg.nodes {
				for i, src := range tg.nodes {
					v, err := gn.g.Get(ctx, "k"+strconv.Itoa(i))
					if err != nil || string(v) != src.name {
						t.Fatalf("%s reads k%d = %q, %v", gn.name, i, v, err)
					}
				}
				all, err := gn.g.All(ctx)
				if err != nil || len(all) != size {
					t.Fatalf("%s: All = %d globals, %v", gn.name, len(all), err)
				}
				// Stale reads converge.
				testpoll.Until(t, 10*time.Second, gn.name+" stale copy", func() bool {
					v, err := gn.g.Get(ctx, "k"+strconv.Itoa(size-1), Stale())
					return err == nil && string(v) == tg.nodes[size-1].name
				})
			}
		})
	}
}

// Only one group is ever bootstrapped when the servers start together.
func TestBootstrapOnce(t *testing.T) {
	tg := newGrid(t, 3, 3, false, nil)
	ctx := ctxT(t, 20*time.Second)
	// Every server learns the configuration in its own time: wait for each.
	for _, gn := range tg.nodes {
		testpoll.Until(t, 10*time.Second, gn.name+" sees 3 voters", func() bool { return len(gn.g.Voters(ctx)) == 3 })
	}
	for _, gn := range tg.nodes {
		if got := gn.g.Voters(ctx); !slices.Equal(got, []string{"n1", "n2", "n3"}) {
			t.Fatalf("%s voters = %v", gn.name, got)
		}
	}
	// A server started with BootstrapExpect 0 never bootstraps on its own
	// but is added to the existing group.
	i := tg.addNode(cluster.RoleServer, 0)
	testpoll.Until(t, 10*time.Second, "n4 added as a non-voter", func() bool {
		return slices.Equal(tg.nodes[i].g.NonVoters(ctx), []string{"n4"})
	})
}

// A node whose BootstrapExpect is not reached serves no globals and says
// why, quickly.
func TestNoQuorumFailsFast(t *testing.T) {
	tg := newEmptyGrid(t, nil)
	g := tg.nodes[tg.addNode(cluster.RoleServer, 3)].g
	ctx := ctxT(t, 10*time.Second)
	start := time.Now()
	err := g.Save(ctx, "k", []byte("v"))
	if !errors.Is(err, session.ErrUnavailable) || !errors.Is(err, ErrNoLeader) {
		t.Fatalf("err = %v, want ErrUnavailable and ErrNoLeader", err)
	}
	if d := time.Since(start); d > 3*g.cfg.LeaderWait {
		t.Fatalf("failing took %v", d)
	}
	if _, err := g.Get(ctx, "k"); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("read err = %v", err)
	}
}

// Killing the leader elects a new one that accepts writes; the dead voter
// is removed after DeadServerTimeout and a non-voter promoted in its place.
func TestLeaderKilled(t *testing.T) {
	tg := newGrid(t, 4, 3, false, nil)
	ctx := ctxT(t, 40*time.Second)
	testpoll.Until(t, 10*time.Second, "3 voters and 1 non-voter", func() bool {
		return len(tg.nodes[0].g.Voters(ctx)) == 3 && len(tg.nodes[0].g.NonVoters(ctx)) == 1
	})
	if err := tg.nodes[0].g.Save(ctx, "before", []byte("1")); err != nil {
		t.Fatal(err)
	}
	old := tg.waitLeader()
	oldName := tg.nodes[old].name
	tg.kill(old)
	start := time.Now()
	leader := tg.waitLeader()
	t.Logf("new leader %s elected %v after killing %s", tg.nodes[leader].name, time.Since(start), oldName)
	if leader == old {
		t.Fatal("the dead node is still leader")
	}
	for _, i := range tg.running() {
		g := tg.nodes[i].g
		if err := g.Save(ctx, "after-"+tg.nodes[i].name, []byte("2")); err != nil {
			t.Fatalf("write on %s after the election: %v", tg.nodes[i].name, err)
		}
		if v, err := g.Get(ctx, "before"); err != nil || string(v) != "1" {
			t.Fatalf("%s lost a global: %q, %v", tg.nodes[i].name, v, err)
		}
	}
	lg := tg.nodes[leader].g
	testpoll.Until(t, 20*time.Second, "the dead voter replaced", func() bool {
		v := lg.Voters(ctx)
		return len(v) == 3 && !slices.Contains(v, oldName) && len(lg.NonVoters(ctx)) == 0
	})
	// The old leader restarts (in memory: empty state) under its name with a
	// new node id, and is added back as a non-voter that catches up.
	oldID := tg.nodes[old].node.ID()
	tg.start(old, 3)
	if tg.nodes[old].node.ID() == oldID {
		t.Fatal("the restarted node kept its id")
	}
	testpoll.Until(t, 20*time.Second, oldName+" back as a non-voter with every global", func() bool {
		v, err := tg.nodes[old].g.Get(ctx, "before", Stale())
		return slices.Equal(lg.NonVoters(ctx), []string{oldName}) && err == nil && string(v) == "1"
	})
}

// A minority side cannot write globals, even when it holds the old leader;
// the majority elects a leader and keeps writing; after the heal the
// minority catches up.
func TestMinorityCannotWrite(t *testing.T) {
	tg := newGrid(t, 5, 5, false, func(_ int, c *GlobalsConfig) {
		c.MaxVoters = 5
		c.DeadServerTimeout = time.Hour // keep the configuration fixed
	})
	ctx := ctxT(t, 60*time.Second)
	old := tg.waitLeader()
	// Every server must know the configuration before the cut: one that has
	// only heard the leader's heartbeats does not yet count itself a voter
	// and would never stand for election.
	for _, gn := range tg.nodes {
		testpoll.Until(t, 20*time.Second, gn.name+" sees 5 voters", func() bool { return len(gn.g.Voters(ctx)) == 5 })
	}
	minority := []int{old, (old + 1) % 5}
	tg.net.isolate(5, minority...)
	t.Logf("cut %s and %s from the others", tg.nodes[minority[0]].name, tg.nodes[minority[1]].name)
	// The old leader may not know yet: its write must fail all the same
	// (it cannot commit without a quorum, and steps down after its lease).
	start := time.Now()
	if err := tg.nodes[old].g.Save(ctx, "minority-"+tg.nodes[old].name, []byte("x")); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("write on the cut-off leader: err = %v, want ErrUnavailable", err)
	}
	t.Logf("write on the cut-off leader failed after %v", time.Since(start))

	var majority []int
	for i := range 5 {
		if !slices.Contains(minority, i) {
			majority = append(majority, i)
		}
	}
	// The majority elects a new leader and accepts writes.
	testpoll.Until(t, 20*time.Second, "a majority leader", func() bool {
		for _, i := range majority {
			if tg.nodes[i].g.IsLeader() {
				return true
			}
		}
		return false
	})
	for _, i := range majority {
		if err := tg.nodes[i].g.Save(ctx, "majority-"+tg.nodes[i].name, []byte("x")); err != nil {
			t.Fatalf("majority write on %s: %v", tg.nodes[i].name, err)
		}
	}
	// The minority fails, within a bounded time, with ErrUnavailable.
	for _, i := range minority {
		g := tg.nodes[i].g
		start := time.Now()
		err := g.Save(ctx, "minority-"+tg.nodes[i].name+"-later", []byte("x"))
		if !errors.Is(err, session.ErrUnavailable) {
			t.Fatalf("minority write on %s: err = %v, want ErrUnavailable", tg.nodes[i].name, err)
		}
		if d := time.Since(start); d > g.cfg.ApplyTimeout+time.Second {
			t.Fatalf("minority write took %v", d)
		}
		t.Logf("minority write on %s failed after %v: %v", tg.nodes[i].name, time.Since(start), err)
		if _, err := g.Get(ctx, "majority-"+tg.nodes[majority[0]].name); !errors.Is(err, session.ErrUnavailable) {
			t.Fatalf("minority linearizable read on %s: err = %v, want ErrUnavailable", tg.nodes[i].name, err)
		}
		if tg.nodes[i].g.IsLeader() {
			t.Fatalf("%s still leads a minority", tg.nodes[i].name)
		}
	}
	tg.net.heal()
	tg.waitLeader()
	for _, i := range minority {
		g := tg.nodes[i].g
		testpoll.Until(t, 20*time.Second, tg.nodes[i].name+" to catch up", func() bool {
			v, err := g.Get(ctx, "majority-"+tg.nodes[majority[0]].name, Stale())
			return err == nil && string(v) == "x"
		})
		// A failed write may or may not be applied in general; here the
		// minority never had a quorum, so it must not be. (The returning
		// nodes may cause one more election: retry while unavailable.)
		var err error
		testpoll.Until(t, 20*time.Second, "a linearizable read on "+tg.nodes[i].name, func() bool {
			_, err = g.Get(ctx, "minority-"+tg.nodes[i].name)
			return !errors.Is(err, session.ErrUnavailable)
		})
		if !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("a minority write surfaced: %v", err)
		}
	}
}

// Every global survives a restart of every node from its data directory,
// across log compaction.
func TestRestartAllFromDataDir(t *testing.T) {
	tg := newGrid(t, 3, 3, true, nil)
	ctx := ctxT(t, 60*time.Second)
	const n = 150 // more than SnapshotThreshold: the log is compacted
	for i := range n {
		g := tg.nodes[i%3].g
		if err := g.Save(ctx, fmt.Sprintf("key-%03d", i), []byte(strconv.Itoa(i))); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	if _, err := tg.nodes[0].g.Evict(ctx, "key-000"); err != nil {
		t.Fatal(err)
	}
	for _, gn := range tg.nodes {
		if err := gn.g.Snapshot(ctx); err != nil && !strings.Contains(err.Error(), "nothing new") {
			t.Fatalf("%s: snapshot: %v", gn.name, err)
		}
	}
	for _, gn := range tg.nodes {
		snaps, err := os.ReadDir(filepath.Join(gn.dataDir, "snapshots"))
		if err != nil || len(snaps) == 0 {
			t.Fatalf("%s: no snapshot on disk (%v)", gn.name, err)
		}
		if st := gn.g.Status(ctx); st.AppliedIndex < n {
			t.Fatalf("%s: applied index %d", gn.name, st.AppliedIndex)
		}
	}
	tg.closeAll()
	for i := range tg.nodes {
		tg.start(i, 3)
	}
	tg.waitLeader()
	for _, gn := range tg.nodes {
		all, err := gn.g.All(ctx)
		if err != nil {
			t.Fatalf("%s: All: %v", gn.name, err)
		}
		if len(all) != n-1 {
			t.Fatalf("%s has %d globals after the restart, want %d", gn.name, len(all), n-1)
		}
		for i := 1; i < n; i++ {
			if v := all[fmt.Sprintf("key-%03d", i)]; !bytes.Equal(v, []byte(strconv.Itoa(i))) {
				t.Fatalf("%s: key-%03d = %q", gn.name, i, v)
			}
		}
	}
	if err := tg.nodes[1].g.Save(ctx, "after-restart", []byte("ok")); err != nil {
		t.Fatal(err)
	}
}

// Embedded and lite members never join Raft; they forward everything.
func TestEmbeddedMemberForwards(t *testing.T) {
	tg := newGrid(t, 3, 3, false, nil)
	ctx := ctxT(t, 30*time.Second)
	e := tg.addNode(cluster.RoleEmbedded, 3)
	l := tg.addNode(cluster.RoleLite, 3)
	for _, i := range []int{e, l} {
		g := tg.nodes[i].g
		if err := g.Save(ctx, "from-"+tg.nodes[i].name, []byte("v")); err != nil {
			t.Fatalf("%s: save: %v", tg.nodes[i].name, err)
		}
		if v, err := g.Get(ctx, "from-"+tg.nodes[i].name); err != nil || string(v) != "v" {
			t.Fatalf("%s: get = %q, %v", tg.nodes[i].name, v, err)
		}
		testpoll.Until(t, 5*time.Second, "stale read through a server", func() bool {
			v, err := g.Get(ctx, "from-"+tg.nodes[i].name, Stale())
			return err == nil && string(v) == "v"
		})
		if existed, err := g.Evict(ctx, "from-"+tg.nodes[i].name); err != nil || !existed {
			t.Fatalf("%s: evict = %v, %v", tg.nodes[i].name, existed, err)
		}
		if st := g.Status(ctx); st.Server || st.State != "forwarder" {
			t.Fatalf("%s: status %+v", tg.nodes[i].name, st)
		}
	}
	time.Sleep(3 * DefaultLocalGlobalsConfig().ReconcileInterval) // give reconciliation a chance to misbehave
	all := append(tg.nodes[0].g.Voters(ctx), tg.nodes[0].g.NonVoters(ctx)...)
	if slices.Contains(all, tg.nodes[e].name) || slices.Contains(all, tg.nodes[l].name) {
		t.Fatalf("an embedded or lite member is in Raft: %v", all)
	}
}

// A node started alone (BootstrapExpect 1) that then joins a grid with a
// group does not start a second group, even when its name sorts first.
func TestLoneNodeJoiningAGridDoesNotBootstrap(t *testing.T) {
	tg := newGrid(t, 3, 3, false, nil)
	ctx := ctxT(t, 30*time.Second)
	if err := tg.nodes[0].g.Save(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// "a0" sorts before n1..n3.
	gn := &gridNode{name: "a0", role: cluster.RoleServer}
	tg.nodes = append(tg.nodes, gn)
	tg.start(len(tg.nodes)-1, 1)
	testpoll.Until(t, 10*time.Second, "a0 in the existing group", func() bool {
		v, err := gn.g.Get(ctx, "k", Stale())
		return err == nil && string(v) == "v"
	})
	if st := gn.g.Status(ctx); st.Leader == "a0" || len(st.Voters)+len(st.NonVoters) != 4 {
		t.Fatalf("a0 status %+v", st)
	}
}

// Leave on the leader hands leadership over.
func TestLeaveTransfersLeadership(t *testing.T) {
	tg := newGrid(t, 3, 3, false, nil)
	ctx := ctxT(t, 30*time.Second)
	tg.waitVoters(ctx, 3)
	l := tg.waitLeader()
	if err := tg.nodes[l].g.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if tg.nodes[l].g.IsLeader() {
		t.Fatal("still leader after Leave")
	}
	tg.kill(l)
	if err := tg.nodes[(l+1)%3].g.Save(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
}
