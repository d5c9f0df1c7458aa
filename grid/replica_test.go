package grid_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// acks records, per session, the last counter a write acknowledged. Each
// writer owns its sessions, so counters only grow.
type acks struct {
	mu   sync.Mutex
	last map[string]int
	at   map[string]time.Time // when the last ack arrived
}

func newAcks() *acks { return &acks{last: map[string]int{}, at: map[string]time.Time{}} }

// total sums the acknowledged counters.
func (a *acks) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.last {
		n += c
	}
	return n
}

func (a *acks) set(id string, c int) {
	a.mu.Lock()
	a.last[id], a.at[id] = c, time.Now()
	a.mu.Unlock()
}

// writers writes counters to sessions through the routers pick returns,
// until ctx ends. An error other than ErrUnavailable (outcome unknown) or
// ErrClosed (the member picked was stopped) fails the test.
func writers(t *testing.T, ctx context.Context, n, sessions int, pick func(r *rand.Rand) *grid.Router, a *acks) (wait func() (ok, failed int)) {
	var wg sync.WaitGroup
	var okc, failc atomic.Int64
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for c := 1; ctx.Err() == nil; c++ {
				id := fmt.Sprintf("w%d-s%d", w, c%sessions)
				router := pick(r)
				if router == nil {
					return
				}
				wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := router.Save(wctx, id, field("c", fmt.Sprint(c)))
				cancel()
				switch {
				case err == nil:
					a.set(id, c)
					okc.Add(1)
				case errors.Is(err, session.ErrUnavailable), errors.Is(err, session.ErrClosed):
					failc.Add(1)
				default:
					t.Errorf("write %s: %v", id, err)
					return
				}
			}
		}()
	}
	return func() (int, int) { wg.Wait(); return int(okc.Load()), int(failc.Load()) }
}

// checkAcked reads every acknowledged session through every live member:
// each holds its last acknowledged counter or a later one.
func checkAcked(t *testing.T, g *testGrid, a *acks) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.last) == 0 {
		t.Fatal("no write was acknowledged")
	}
	for _, m := range g.live() {
		r := m.node.Router(nil)
		for id, c := range a.last {
			v, err := r.Get(context.Background(), id, "c")
			var got int
			fmt.Sscan(string(v), &got)
			if err != nil || got < c {
				t.Fatalf("via %s: %s = %q (%v), acknowledged %d", m.name, id, v, err, c)
			}
		}
	}
}

// checkHistory checks invariants over every table the grid committed: a
// member becomes a replica only after it was a learner (filled with the
// data), or in the first table; and, when min > 0, every partition keeps at
// least min replicas in every table after the first.
func checkHistory(t *testing.T, g *testGrid, min int) {
	t.Helper()
	h := g.log.History()
	for i := 1; i < len(h); i++ {
		prev, next := h[i-1], h[i]
		for p, a := range next.Partitions {
			for _, m := range a.Replicas {
				pa := prev.Partitions[p]
				if !slices.Contains(pa.Replicas, m) && !slices.Contains(pa.Learners, m) && len(pa.Replicas) > 0 {
					t.Fatalf("epoch %d: %s became a replica of partition %d without being filled (epoch %d: %v)", next.Epoch, m, p, prev.Epoch, pa)
				}
			}
			if min > 0 && len(a.Replicas) < min {
				t.Fatalf("epoch %d: partition %d has %d replicas %v, want at least %d", next.Epoch, p, len(a.Replicas), a.Replicas, min)
			}
		}
	}
}

func randomRouter(g *testGrid) func(r *rand.Rand) *grid.Router {
	return func(r *rand.Rand) *grid.Router {
		live := g.live()
		if len(live) == 0 {
			return nil
		}
		return live[r.IntN(len(live))].node.Router(nil)
	}
}

// TestCrashUnderWritesLosesNothing crashes a member (a plain one, then the
// coordinator) while writers go on through every member: every
// acknowledged write reads back with its last acknowledged value or a
// later one, and each partition the victim led is led next by its old
// first backup (promotion, not reseeding).
func TestCrashUnderWritesLosesNothing(t *testing.T) {
	for _, victimIdx := range []int{2, 0} {
		t.Run(fmt.Sprintf("victim-m%d", victimIdx+1), func(t *testing.T) {
			g := newTestGrid(t, 3)
			g.waitSafe()
			a := newAcks()
			ctx, cancel := context.WithCancel(context.Background())
			wait := writers(t, ctx, 4, 50, randomRouter(g), a)
			waitAcks(t, a, 200)
			victim := g.live()[victimIdx]
			before := victim.node.Table()
			g.stop(victim, false)
			g.waitStable()
			waitAcks(t, a, a.total()+200) // writes go on after the failover
			cancel()
			ok, failed := wait()
			checkAcked(t, g, a)
			checkPromotions(t, g, before, victim.node.Name())
			g.waitSafe()
			t.Logf("%d writes acknowledged, %d failed (outcome unknown)", ok, failed)
		})
	}
}

// waitAcks waits until n acknowledgements were recorded in all.
func waitAcks(t *testing.T, a *acks, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := a.total()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d acknowledgements", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkPromotions checks that every partition victim led in before is led,
// in the first later table that drops it, by its first backup in before.
func checkPromotions(t *testing.T, g *testGrid, before partition.Table, victim string) {
	t.Helper()
	promoted := 0
	for p, a := range before.Partitions {
		if a.Primary() != victim {
			continue
		}
		for _, tb := range g.log.History() {
			if tb.Epoch <= before.Epoch || tb.Partitions[p].Primary() == victim {
				continue
			}
			if got := tb.Partitions[p].Primary(); got != a.Replicas[1] {
				t.Fatalf("partition %d: led by %s after the crash, its backup was %s", p, got, a.Replicas[1])
			}
			promoted++
			break
		}
	}
	if promoted == 0 {
		t.Fatal("the victim led no partition")
	}
}

// leadAndBackup waits until g is safe and returns its second and third
// members and a session id the first leads with the second as backup.
func leadAndBackup(t *testing.T, g *testGrid) (p, b *member, id string) {
	t.Helper()
	g.waitSafe()
	live := g.live()
	p, b = live[1], live[2]
	return p, b, keyLedBy(t, p, b)
}

// keyLedBy returns a session id whose partition m leads with backup b.
func keyLedBy(t *testing.T, m, b *member) string {
	t.Helper()
	tb := m.node.Table()
	for i := 0; i < 100000; i++ {
		id := fmt.Sprint("k", i)
		a := tb.Partitions[m.node.Partition(id)]
		if a.Primary() == m.node.Name() && slices.Contains(a.Replicas[1:], b.node.Name()) {
			return id
		}
	}
	lead := map[string]int{}
	for _, a := range tb.Partitions {
		if a.Primary() == m.node.Name() {
			lead[fmt.Sprint(a.Replicas[1:])]++
		}
	}
	t.Fatalf("no key led by %s with backup %s (epoch %d): %v", m.name, b.name, tb.Epoch, lead)
	return ""
}

// TestUnreachableBackupFailsTheWrite cuts the internal transport from a
// primary to its backup (gossip still says the backup is alive): the write
// is never acknowledged, it fails with ErrUnavailable. Once the link is
// back the backup is resynced, and after the primary crashes the backup
// holds every acknowledged write.
func TestUnreachableBackupFailsTheWrite(t *testing.T) {
	g := newTestGrid(t, 3)
	p, b, id := leadAndBackup(t, g)
	r := p.node.Router(nil)
	ctx := context.Background()
	if _, err := r.Save(ctx, id, field("c", "1")); err != nil {
		t.Fatal(err)
	}
	p.block(b.tr.Addr())
	if _, err := r.Save(ctx, id, field("c", "2")); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("write with its backup unreachable: %v, want ErrUnavailable", err)
	}
	p.unblock()
	if _, err := r.Save(ctx, id, field("c", "3")); err != nil {
		t.Fatalf("write once the backup is back: %v", err)
	}
	g.stop(p, false)
	g.waitStable()
	v, err := b.node.Router(nil).Get(ctx, id, "c")
	if err != nil || string(v) != "3" {
		t.Fatalf("after the primary's crash: %q, %v", v, err)
	}
}

// TestDroppedBackupMessageIsRepaired loses one replication message on the
// way to a backup: the write reports ErrUnavailable or succeeds after the
// resync, the backup catches up, and it holds the value after a failover.
func TestDroppedBackupMessageIsRepaired(t *testing.T) {
	g := newTestGrid(t, 3)
	p, b, id := leadAndBackup(t, g)
	var dropped atomic.Int32
	grid.SetDropBackup(p.node, func(member string) bool {
		return member == b.node.Name() && dropped.Add(1) == 1
	})
	r := p.node.Router(nil)
	ctx := context.Background()
	if _, err := r.Save(ctx, id, field("c", "1")); err != nil && !errors.Is(err, session.ErrUnavailable) {
		t.Fatal(err)
	}
	if dropped.Load() == 0 {
		t.Fatal("no message was dropped")
	}
	if _, err := r.Save(ctx, id, field("c", "2")); err != nil {
		t.Fatalf("write after the resync: %v", err)
	}
	if v, err := failover(g, p, b, id); err != nil || string(v) != "2" {
		t.Fatalf("after failover: %q, %v", v, err)
	}
}

// failover crashes primary p, waits for the grid to settle and reads field
// c of session id through b, its promoted backup.
func failover(g *testGrid, p, b *member, id string) ([]byte, error) {
	g.stop(p, false)
	g.waitStable()
	return b.node.Router(nil).Get(context.Background(), id, "c")
}

// saveExpiring writes field c=1 to session id through r and gives the
// session an idle timeout.
func saveExpiring(t *testing.T, r *grid.Router, id string, idle time.Duration) {
	t.Helper()
	ctx := context.Background()
	if _, err := r.Save(ctx, id, field("c", "1")); err != nil {
		t.Fatal(err)
	}
	if err := r.SetExpiry(ctx, id, session.Expiry{Idle: idle}); err != nil {
		t.Fatal(err)
	}
}

// TestSequentialCrashesDownToOne crashes members one after another, waiting
// for the grid to be cluster-safe in between, down to one member: no
// session is lost.
func TestSequentialCrashesDownToOne(t *testing.T) {
	g := newTestGrid(t, 4)
	writeSessions(t, g, 200, "a")
	for len(g.live()) > 1 {
		g.waitSafe()
		live := g.live()
		g.stop(live[len(live)-1], false)
		g.waitStable()
		checkSessions(t, g, 200, "a")
	}
}

// TestRestartedMemberServesNoEmptyCopy crashes a member and starts it again
// at once under the same name: the new start is a new identity that leads
// nothing it was not filled with, every session stays readable through
// every member, and no table makes a member a replica it was not filled as.
func TestRestartedMemberServesNoEmptyCopy(t *testing.T) {
	g := newTestGrid(t, 3)
	writeSessions(t, g, 200, "a")
	g.waitSafe()
	old := g.live()[2]
	g.stop(old, false)
	back := g.addNamed(cluster.RoleServer, old.name, nil)
	if back.node.Name() == old.node.Name() {
		t.Fatal("the restart has the old identity")
	}
	checkSessions(t, g, 200, "a") // at once: reads wait for promotion, never see an empty copy
	g.waitStable()
	g.waitSafe()
	checkSessions(t, g, 200, "a")
	checkHistory(t, g, 0)
	if back.node.Held() == 0 {
		t.Fatal("the restarted member was never filled")
	}
}

// TestJoinAndDrainKeepCopies: during a join and a graceful leave every
// table keeps both copies of every partition (B=1), and replicas are added
// only once filled.
func TestJoinAndDrainKeepCopies(t *testing.T) {
	g := newTestGrid(t, 3)
	writeSessions(t, g, 500, "a")
	g.waitSafe()
	first := len(g.log.History())
	a := newAcks()
	ctx, cancel := context.WithCancel(context.Background())
	wait := writers(t, ctx, 2, 50, randomRouter(g), a)
	g.add(cluster.RoleServer)
	g.waitStable()
	g.stop(g.live()[1], true)
	g.waitStable()
	cancel()
	wait()
	checkSessions(t, g, 500, "a")
	checkAcked(t, g, a)
	h := g.log.History()
	for _, tb := range h[first:] {
		for p, pa := range tb.Partitions {
			if len(pa.Replicas) < 2 {
				t.Fatalf("epoch %d: partition %d has replicas %v", tb.Epoch, p, pa.Replicas)
			}
		}
	}
	checkHistory(t, g, 0)
}

// TestExpiryIsThePrimarysDecision: the primary's clock runs ahead of its
// backup's. A session that expired on the primary stays expired after the
// backup takes over (the expiry reached it as a delete), although the
// backup's own clock says it is still alive.
func TestExpiryIsThePrimarysDecision(t *testing.T) {
	g := newTestGrid(t, 3)
	p, b, id := leadAndBackup(t, g)
	ctx := context.Background()
	r := p.node.Router(nil)
	saveExpiring(t, r, id, 10*time.Second)
	p.offset.Store(int64(11 * time.Second)) // only the primary's clock moves
	if _, err := r.Get(ctx, id, "c"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("expired on the primary: %v", err)
	}
	if v, err := failover(g, p, b, id); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the promoted backup resurrected an expired session: %q, %v", v, err)
	}
}

// TestSweptExpiryReachesBackups: the primary's sweeper removes an expired
// session without any read; the backup learns it as a delete.
func TestSweptExpiryReachesBackups(t *testing.T) {
	g := newTestGrid(t, 3)
	p, b, id := leadAndBackup(t, g)
	saveExpiring(t, p.node.Router(nil), id, 10*time.Second)
	p.offset.Store(int64(11 * time.Second))
	testpoll.Until(t, 30*time.Second, "the primary's sweep", func() bool { return p.node.Stats().Expired > 0 })
	if v, err := failover(g, p, b, id); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the promoted backup resurrected a swept session: %q, %v", v, err)
	}
}

// TestTouchedSessionSurvivesPromotion: with TouchOnRead, a read slides the
// idle timer on the primary and on its backups, so after a failover the
// session lives as long as the read promised.
func TestTouchedSessionSurvivesPromotion(t *testing.T) {
	g := newTestGridWith(t, 3, func(c *grid.Config) { c.Store.TouchOnRead = true })
	g.waitSafe()
	live := g.live()
	p, b := live[1], live[2]
	id := keyLedBy(t, p, b)
	ctx := context.Background()
	r := p.node.Router(nil)
	saveExpiring(t, r, id, 100*time.Second)
	g.advance(80 * time.Second)
	if _, err := r.Get(ctx, id, "c"); err != nil { // touches
		t.Fatal(err)
	}
	g.advance(80 * time.Second) // 160 s after the write, 80 s after the touch
	if v, err := failover(g, p, b, id); err != nil || string(v) != "1" {
		t.Fatalf("the touched session did not survive the failover: %q, %v", v, err)
	}
}

// TestCutPrimaryStopsAcknowledging cuts a member off from every other one
// (gossip and transport) while a writer writes through it: once its lease
// has run out it acknowledges nothing, the majority promotes its backups,
// and after the heal every write it acknowledged is readable.
func TestCutPrimaryStopsAcknowledging(t *testing.T) {
	g := newTestGrid(t, 3)
	g.waitSafe()
	victim := g.live()[2]
	lease := testLease
	a := newAcks()
	ctx, cancel := context.WithCancel(context.Background())
	via := victim.node.Router(nil)
	stale := keyLedBy(t, victim, g.live()[0])
	if _, err := via.Save(ctx, stale, field("c", "old")); err != nil {
		t.Fatal(err)
	}
	wait := writers(t, ctx, 2, 30, func(*rand.Rand) *grid.Router { return via }, a)
	waitAcks(t, a, 100)
	cutAt := time.Now()
	g.cut(victim)
	g.log.Hold(victim.name) // cut off, it learns of no new table: only its lease stops it
	// The majority promotes the victim's partitions; writes through it go
	// on failing meanwhile.
	others := g.live()[:2]
	g.waitTakenOver(victim, others[0])
	// A session the cut member led, rewritten on the majority side: the cut
	// member must not answer with what it holds (its lease ran out).
	if _, err := others[0].node.Router(nil).Save(context.Background(), stale, field("c", "new")); err != nil {
		t.Fatalf("write on the majority side: %v", err)
	}
	if v, err := via.Get(context.Background(), stale, "c"); err == nil || string(v) == "old" {
		t.Fatalf("the cut member answered %q, %v for a session the majority rewrote", v, err)
	}
	time.Sleep(lease) // writers keep trying through the cut member
	a.mu.Lock()
	for id, at := range a.at {
		if at.After(cutAt.Add(lease + 200*time.Millisecond)) {
			t.Errorf("%s acknowledged by the cut member %v after the cut (lease %v)", id, at.Sub(cutAt), lease)
		}
	}
	a.mu.Unlock()
	g.heal()
	g.log.Release(victim.name)
	cancel()
	wait()
	g.waitStable()
	checkAcked(t, g, a)
}

// TestAntiEntropyRepairsADivergedBackup damages a backup's copy behind
// replication's back: the next digest down the partition's stream finds
// the difference, the backup is resynced, and after the primary's crash it
// holds the session.
func TestAntiEntropyRepairsADivergedBackup(t *testing.T) {
	g := newTestGrid(t, 3)
	p, b, id := leadAndBackup(t, g)
	ctx := context.Background()
	if _, err := p.node.Router(nil).Save(ctx, id, field("c", "1")); err != nil {
		t.Fatal(err)
	}
	grid.LocalDelete(b.node, id)
	if _, ok := grid.LocalRecord(b.node, id); ok {
		t.Fatal("the damage did not take")
	}
	grid.CheckNow(p.node, p.node.Partition(id))
	testpoll.Until(t, 30*time.Second, "the repaired record on the backup", func() bool { _, ok := grid.LocalRecord(b.node, id); return ok })
	if v, err := failover(g, p, b, id); err != nil || string(v) != "1" {
		t.Fatalf("after the failover: %q, %v", v, err)
	}
}

// TestReadFailsWhenLeaseLapsesDuringIt: a primary's lease runs out (here:
// the lease of a takeover's epoch and no time left) while a read runs; the
// read is not served (its caller routes it again, to the owner in force),
// since another member may have taken over and written before the value
// was read. Without the check after the read, a
// primary descheduled past its lease answered stale values
// (TestLinearizableThroughPause, under load).
func TestReadFailsWhenLeaseLapsesDuringIt(t *testing.T) {
	g := newTestGrid(t, 3)
	p, _, id := leadAndBackup(t, g)
	ctx := context.Background()
	if _, err := p.node.Router(nil).Save(ctx, id, field("c", "1")); err != nil {
		t.Fatal(err)
	}
	n := p.node
	for _, lapse := range []bool{false, true} {
		served, err := grid.ServeLocalRead(ctx, n, id, func(s *memory.Store) error {
			if lapse {
				grid.LapseLease(n)
			}
			_, err := s.Get(ctx, id, "c")
			return err
		})
		switch {
		case lapse && served:
			t.Fatalf("a read during which the lease ran out was served: %v", err)
		case !lapse && (!served || err != nil):
			t.Fatalf("a read under the lease: served %v, %v", served, err)
		}
	}
}
