// Command failover measures a failover of a 3-member loopback grid: it
// starts three gridnode processes (--backup-count 1), writes sessions
// spread over every partition, SIGKILLs a member that is not the Raft
// leader, and reports the time from the kill until every session is
// readable (and writable) again through a survivor, and until the grid is
// cluster-safe again (GRID.SAFE).
//
//	go run ./scripts/failover [-sessions 2000]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	sessions := flag.Int("sessions", 2000, "sessions written before the kill")
	flag.Parse()
	if err := run(*sessions); err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(1)
	}
}

func run(sessions int) error {
	dir, err := os.MkdirTemp("", "failover")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "gridnode")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/gridnode").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	}()
	clients := make([]*redis.Client, 3)
	for i := 1; i <= 3; i++ {
		cmd := exec.Command(bin, "--addr", fmt.Sprintf("127.0.0.1:%d", 7610+i), "--http-addr", fmt.Sprintf("127.0.0.1:%d", 7620+i),
			"--node-name", fmt.Sprint("n", i), "--gossip-addr", fmt.Sprintf("127.0.0.1:%d", 7630+i),
			"--transport-addr", fmt.Sprintf("127.0.0.1:%d", 7640+i), "--raft-addr", fmt.Sprintf("127.0.0.1:%d", 7650+i),
			"--bootstrap-expect", "3", "--join", "127.0.0.1:7631", "--backup-count", "1", "--log-level", "warn")
		log, _ := os.Create(filepath.Join(dir, fmt.Sprint("n", i, ".log")))
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			return err
		}
		procs = append(procs, cmd)
		clients[i-1] = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", 7610+i), MaxRetries: -1})
	}
	ctx := context.Background()
	if err := waitSafe(ctx, clients[0], 60*time.Second); err != nil {
		return err
	}
	for i := 0; i < sessions; i++ {
		if err := clients[0].HSet(ctx, fmt.Sprint("sess:", i), "stage", i).Err(); err != nil {
			return err
		}
	}
	info, err := clients[0].Info(ctx, "cluster").Result()
	if err != nil {
		return err
	}
	leader := field(info, "raft_leader")
	victim := 2
	for victim >= 0 && fmt.Sprint("n", victim+1) == leader {
		victim--
	}
	survivor := clients[(victim+1)%3]
	if fmt.Sprint("n", (victim+1)%3+1) == leader {
		survivor = clients[(victim+2)%3]
	}
	fmt.Printf("%d sessions written; killing n%d (Raft leader n%s)\n", sessions, victim+1, strings.TrimPrefix(leader, "n"))
	killed := time.Now()
	procs[victim].Process.Kill()
	// Every session readable and writable again through a survivor.
	for i := 0; i < sessions; i++ {
		for {
			if err := survivor.HSet(ctx, fmt.Sprint("sess:", i), "after", 1).Err(); err == nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	served := time.Since(killed)
	fmt.Printf("every session served again %.2f s after the SIGKILL\n", served.Seconds())
	if err := waitSafe(ctx, survivor, 120*time.Second); err != nil {
		return err
	}
	fmt.Printf("full backup count again (GRID.SAFE) %.2f s after the SIGKILL\n", time.Since(killed).Seconds())
	for i := 0; i < sessions; i++ {
		v, err := survivor.HGet(ctx, fmt.Sprint("sess:", i), "stage").Result()
		if err != nil || v != fmt.Sprint(i) {
			return fmt.Errorf("sess:%d after the failover: %q, %v", i, v, err)
		}
	}
	fmt.Printf("all %d sessions intact\n", sessions)
	return nil
}

func waitSafe(ctx context.Context, c *redis.Client, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if v, err := c.Do(ctx, "GRID.SAFE").Int(); err == nil && v == 1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("grid not safe after %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func field(info, name string) string {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return v
		}
	}
	return ""
}
