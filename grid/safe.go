package grid

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
)

// SafeStatus says whether the grid holds every partition with its full
// backup count, in sync, with nothing moving: then any BackupCount members
// may fail at once without losing an acknowledged write.
type SafeStatus struct {
	Safe bool `json:"safe"`
	// Reason says why not, "" when safe.
	Reason string `json:"reason,omitempty"`
	// Epoch is the table's epoch, Backups its synchronous backup count.
	Epoch        uint64 `json:"epoch"`
	Backups      int    `json:"backups"`
	AsyncBackups int    `json:"async_backups"`
	// Short counts partitions with fewer replicas than the backup count
	// asks for (too few members, or re-replication under way).
	Short int `json:"short_partitions"`
	// Migrating counts partitions with a learner being filled.
	Migrating int `json:"migrating_partitions"`
	// Behind counts backup links, over every member asked, that are being
	// resynced; Unreached lists members that did not answer.
	Behind    int      `json:"backups_behind"`
	Unreached []string `json:"unreached,omitempty"`
}

// Safe reports whether the grid is cluster-safe, asking every member
// that holds partitions how many of its backup links are behind.
func (n *Node) Safe(ctx context.Context) SafeStatus {
	t := n.table.Load()
	st := SafeStatus{Epoch: t.Epoch, Backups: t.Backups, AsyncBackups: t.AsyncBackups}
	if len(t.Partitions) == 0 {
		st.Reason = "no partition table yet"
		return st
	}
	alive := n.aliveMembers()
	holders := map[string]bool{}
	for _, a := range t.Partitions {
		if len(a.Replicas) < 1+t.Backups+t.AsyncBackups {
			st.Short++
		}
		if len(a.Learners) > 0 {
			st.Migrating++
		}
		for _, m := range a.Replicas {
			holders[m] = true
			if _, ok := alive[m]; !ok {
				st.Short++
			}
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for m := range holders {
		if m == n.self {
			b := n.behind()
			mu.Lock()
			st.Behind += b
			mu.Unlock()
			continue
		}
		mb, ok := alive[m]
		if !ok || mb.Role == cluster.RoleLite {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			b, err := n.tr.Call(cctx, mb.Addrs.Transport, msgSafe, nil)
			var v uint64
			if err == nil {
				v, err = getU64(b)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				st.Unreached = append(st.Unreached, nameOf(m))
				return
			}
			st.Behind += int(v)
		}()
	}
	wg.Wait()
	switch {
	case st.Short > 0:
		st.Reason = fmt.Sprintf("%d partitions lack a replica", st.Short)
	case st.Migrating > 0:
		st.Reason = fmt.Sprintf("%d partitions are migrating", st.Migrating)
	case st.Behind > 0:
		st.Reason = fmt.Sprintf("%d backups are being resynced", st.Behind)
	case len(st.Unreached) > 0:
		st.Reason = fmt.Sprintf("members %v did not answer", st.Unreached)
	default:
		st.Safe = true
	}
	return st
}

// behind counts this member's backup links that are not in sync.
func (n *Node) behind() int {
	c := 0
	for _, pt := range n.parts {
		if !pt.repl.hasLinks.Load() {
			continue
		}
		pt.repl.wmu.Lock()
		for _, l := range pt.repl.links {
			if !l.healthy {
				c++
			}
		}
		pt.repl.wmu.Unlock()
	}
	return c
}

func (n *Node) handleSafe(context.Context, []byte) ([]byte, error) {
	return binary.AppendUvarint(nil, uint64(n.behind())), nil
}
