package grid_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/replication"
	"github.com/sessiongrid/sessiongrid/transport"
)

func memberConfig(t testing.TB, name string, role cluster.Role, expect int, seeds []string) grid.MemberConfig {
	logger := quiet(t)
	c := cluster.DefaultLocalConfig()
	c.Name, c.Role = name, role
	g := replication.DefaultLocalGlobalsConfig()
	g.BootstrapExpect = expect
	gr := grid.DefaultConfig()
	gr.PlanInterval = 50 * time.Millisecond
	return grid.MemberConfig{
		Cluster: c, Transport: transport.DefaultLocalConfig(), Globals: g, Grid: gr,
		Seeds: seeds, JoinTimeout: 10 * time.Second, Secret: []byte("test-secret"), Logger: logger,
	}
}

// startMember starts a member; ready waits for it to see a table.
func startMember(t *testing.T, cfg grid.MemberConfig, ready bool) *grid.Member {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := grid.StartMember(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	if ready {
		if err := m.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// waitConverged waits until every member applies the same table and no
// partition is moving.
func waitConverged(t *testing.T, ms ...*grid.Member) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := true
		epoch := ms[0].Node.Table().Epoch
		for _, m := range ms {
			tb := m.Node.Table()
			if tb.Epoch != epoch || len(tb.Partitions) == 0 {
				ok = false
				break
			}
			for _, a := range tb.Partitions {
				if len(a.Learners) > 0 {
					ok = false
				}
			}
		}
		if ok {
			time.Sleep(150 * time.Millisecond) // a planning round or two
			if ms[0].Node.Table().Epoch == epoch {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("members did not converge")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMembersOverRaft runs the real assembly: three servers whose table
// lives in the Raft log, an embedded peer that owns partitions without being
// a voter, and a lite member that owns nothing.
func TestMembersOverRaft(t *testing.T) {
	ctx := context.Background()
	s1 := startMember(t, memberConfig(t, "s1", cluster.RoleServer, 3, nil), false)
	seeds := []string{s1.Cluster.GossipAddr()}
	s2 := startMember(t, memberConfig(t, "s2", cluster.RoleServer, 3, seeds), false)
	s3 := startMember(t, memberConfig(t, "s3", cluster.RoleServer, 3, seeds), true)
	emb := startMember(t, memberConfig(t, "bot-1", cluster.RoleEmbedded, 0, seeds), true)
	lite := startMember(t, memberConfig(t, "bot-lite", cluster.RoleLite, 0, seeds), true)
	// The members may agree on a table before the planner has given the
	// embedded peer its share: wait for the share, then for the moves.
	testpoll.Until(t, 30*time.Second, "the embedded peer to own partitions", func() bool { return emb.Node.Held() > 0 })
	waitConverged(t, s1, s2, s3, emb, lite)
	if lite.Node.Held() != 0 {
		t.Fatal("the lite member owns partitions")
	}
	if v := s1.Globals.Status(ctx).Voters; len(v) != 3 {
		t.Fatalf("voters %v: embedded and lite members must never vote", v)
	}
	r := lite.Node.Router(nil)
	for i := 0; i < 200; i++ {
		id := fmt.Sprint("user-", i)
		if _, err := r.Save(ctx, id, field("stage", id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := emb.Node.Router(nil).SaveGlobal(ctx, "flag", []byte(`"on"`)); err != nil {
		t.Fatal(err)
	}
	if err := s2.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitConverged(t, s1, s3, emb, lite)
	for _, m := range []*grid.Member{s1, s3, emb, lite} {
		r := m.Node.Router(nil)
		for i := 0; i < 200; i++ {
			id := fmt.Sprint("user-", i)
			if v, err := r.Get(ctx, id, "stage"); err != nil || string(v) != id {
				t.Fatalf("via %s after s2 left: %s = %q, %v", m.Cluster.Name(), id, v, err)
			}
		}
		if v, err := r.GetGlobal(ctx, "flag"); err != nil || string(v) != `"on"` {
			t.Fatalf("global via %s: %q %v", m.Cluster.Name(), v, err)
		}
	}
}

// TestEveryMemberStopsAtOnce stops every member of a grid at the same time
// (a fleet shutdown, docker-compose down) with a short deadline: nobody can
// take the partitions, yet every Leave returns within its deadline plus the
// few seconds the leave steps get of their own.
func TestEveryMemberStopsAtOnce(t *testing.T) {
	s1 := startMember(t, memberConfig(t, "s1", cluster.RoleServer, 3, nil), false)
	seeds := []string{s1.Cluster.GossipAddr()}
	s2 := startMember(t, memberConfig(t, "s2", cluster.RoleServer, 3, seeds), false)
	s3 := startMember(t, memberConfig(t, "s3", cluster.RoleServer, 3, seeds), true)
	waitConverged(t, s1, s2, s3)
	const deadline = 2 * time.Second
	start := time.Now()
	done := make(chan time.Duration, 3)
	for _, m := range []*grid.Member{s1, s2, s3} {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			m.Leave(ctx)
			done <- time.Since(start)
		}()
	}
	for range 3 {
		select {
		case d := <-done:
			t.Logf("a member left after %v", d)
		case <-time.After(deadline + 12*time.Second): // the leave steps and the close get 3 s each
			t.Fatalf("a member still had not left %v after the stop", deadline+12*time.Second)
		}
	}
}
