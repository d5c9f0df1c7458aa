package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// A fault is one thing that goes wrong with a member of the cluster
// (etcd's robustness failpoints, in containers). The runner (chaos_test.go)
// checks the cluster is healthy before Inject and after Heal.
type fault interface {
	// Name names the fault in logs and file names.
	Name() string
	// Inject makes the fault happen and returns once it has taken effect as
	// far as the cluster can tell (for a lost member: the others have
	// declared it dead and moved its partitions). The workload runs
	// meanwhile.
	Inject(ctx context.Context, c *cluster) error
	// Heal undoes the fault and returns once the affected members serve
	// again; the runner then waits for cluster-safe.
	Heal(ctx context.Context, c *cluster) error
}

// Bounds of the faults, sized to the compose cluster's failure detection
// (memberlist probes every 500 ms; a silent member is dead after 1.5 to
// 6 s) and Raft's timing (1 s heartbeat and election timeouts).
const (
	detectBound  = 30 * time.Second // a lost member declared dead and its partitions moved
	readyBound   = 60 * time.Second // a (re)started member serves
	safeBound    = 60 * time.Second // the cluster is safe again after a heal: a restarted member is a new incarnation, filled with a third of the partitions and leading its share again (each move a Raft commit)
	stopGrace    = 30               // seconds docker stop/restart waits for a drain
	leaderBound  = 20 * time.Second // a new Raft leader is elected
	dockerBudget = 90 * time.Second // one docker command
)

// victim picks the member a fault hits: not the Raft leader (losing the
// leader is a fault of its own), so that the failure tested is a session
// owner's.
func victim(ctx context.Context, c *cluster) (string, error) {
	leader, err := c.leader(ctx, c.services)
	if err != nil {
		return "", err
	}
	for i := len(c.services) - 1; i >= 0; i-- {
		if c.services[i] != leader {
			return c.services[i], nil
		}
	}
	return "", fmt.Errorf("no member but the leader %s", leader)
}

// startMember starts a stopped or killed member and waits until it serves.
func startMember(ctx context.Context, c *cluster, s string) error {
	if _, err := c.docker(ctx, "start", c.container(s)); err != nil {
		return err
	}
	if _, err := c.refreshIP(s); err != nil {
		return err
	}
	return waitFor(readyBound, func(ctx context.Context) error { return c.ready(ctx, s) })
}

// dockerFault picks a victim, records it in *chosen (for Heal), runs the
// docker command verb (kill, pause) on its container and waits until the
// other members see it gone.
func dockerFault(ctx context.Context, c *cluster, verb string, chosen *string) error {
	v, err := victim(ctx, c)
	if err != nil {
		return err
	}
	*chosen = v
	if _, err := c.docker(ctx, verb, c.container(v)); err != nil {
		return err
	}
	return c.waitGone(c.except(v), v, detectBound)
}

// killFault: SIGKILL one member (docker kill), then start it again; it
// rejoins as a new incarnation.
type killFault struct{ victim string }

func (f *killFault) Name() string { return "kill" }

func (f *killFault) Inject(ctx context.Context, c *cluster) error {
	return dockerFault(ctx, c, "kill", &f.victim)
}

func (f *killFault) Heal(ctx context.Context, c *cluster) error {
	if f.victim == "" {
		return nil // Inject failed before it chose
	}
	return startMember(ctx, c, f.victim)
}

// pauseFault: freeze one member (docker pause, the cgroup freezer: SIGSTOP
// for every process) until the others have declared it dead and moved its
// partitions, then thaw it. When it wakes it must neither serve stale reads
// nor acknowledge writes for partitions it no longer leads.
type pauseFault struct{ victim string }

func (f *pauseFault) Name() string { return "pause" }

func (f *pauseFault) Inject(ctx context.Context, c *cluster) error {
	return dockerFault(ctx, c, "pause", &f.victim)
}

func (f *pauseFault) Heal(ctx context.Context, c *cluster) error {
	if f.victim == "" {
		return nil
	}
	if _, err := c.docker(ctx, "unpause", c.container(f.victim)); err != nil {
		return err
	}
	return waitFor(readyBound, func(ctx context.Context) error { return c.ready(ctx, f.victim) })
}

// cutFault: disconnect one member from the cluster network (a network cut:
// the member runs on, alone), until the others have declared it dead and
// moved its partitions; then reconnect it with the same address. Clients of
// the test reach members over that network too, so during the cut the
// member's own clients time out.
type cutFault struct {
	victim, network, ip string
}

func (f *cutFault) Name() string { return "cut" }

func (f *cutFault) Inject(ctx context.Context, c *cluster) error {
	v, err := victim(ctx, c)
	if err != nil {
		return err
	}
	f.victim = v
	nets, err := c.docker(ctx, "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}}{{end}}", c.container(v))
	if err != nil {
		return err
	}
	parts := strings.Fields(nets)
	if len(parts) != 2 {
		return fmt.Errorf("%s is on networks %q, want exactly one", v, nets)
	}
	if _, err := c.docker(ctx, "network", "disconnect", parts[0], c.container(v)); err != nil {
		return err
	}
	f.network, f.ip = parts[0], parts[1]
	return c.waitGone(c.except(v), v, detectBound)
}

func (f *cutFault) Heal(ctx context.Context, c *cluster) error {
	if f.network == "" {
		return nil
	}
	// Docker gives the lowest free address back: the member's own, since
	// nothing else joined the network meanwhile. Its peers know it by it.
	if _, err := c.docker(ctx, "network", "connect", "--alias", f.victim, f.network, c.container(f.victim)); err != nil {
		return err
	}
	ip, err := c.refreshIP(f.victim)
	if err != nil {
		return err
	}
	if ip != f.ip {
		return fmt.Errorf("%s came back on %s with address %s, not %s", f.victim, f.network, ip, f.ip)
	}
	return waitFor(readyBound, func(ctx context.Context) error { return c.ready(ctx, f.victim) })
}

// rollingRestart restarts every member in turn (SIGTERM: a graceful drain,
// then a start), waiting for cluster-safe before the next one.
type rollingRestart struct{}

func (rollingRestart) Name() string { return "rolling-restart" }

func (rollingRestart) Inject(ctx context.Context, c *cluster) error {
	for _, s := range c.services {
		if _, err := c.docker(ctx, "stop", "--time", fmt.Sprint(stopGrace), c.container(s)); err != nil {
			return err
		}
		if err := startMember(ctx, c, s); err != nil {
			return fmt.Errorf("%s after its restart: %w", s, err)
		}
		if err := c.waitSafe(c.services, safeBound); err != nil {
			return fmt.Errorf("cluster-safe after restarting %s: %w", s, err)
		}
	}
	return nil
}

func (rollingRestart) Heal(context.Context, *cluster) error { return nil }

// leaderLoss kills the member /cluster names as the Raft leader (the
// coordinator of the partition table and the globals' leader) and waits for
// the others to elect a new one; heal starts it again.
type leaderLoss struct{ victim string }

func (f *leaderLoss) Name() string { return "leader-loss" }

func (f *leaderLoss) Inject(ctx context.Context, c *cluster) error {
	l, err := c.leader(ctx, c.services)
	if err != nil {
		return err
	}
	f.victim = l
	if _, err := c.docker(ctx, "kill", c.container(l)); err != nil {
		return err
	}
	live := c.except(l)
	if err := waitFor(leaderBound, func(ctx context.Context) error {
		nl, err := c.leader(ctx, live)
		if err != nil {
			return err
		}
		if nl == l {
			return fmt.Errorf("the survivors still name %s leader", l)
		}
		return nil
	}); err != nil {
		return err
	}
	return c.waitGone(live, l, detectBound)
}

func (f *leaderLoss) Heal(ctx context.Context, c *cluster) error {
	if f.victim == "" {
		return nil
	}
	return startMember(ctx, c, f.victim)
}

// killTwo kills two members one after the other, waiting for cluster-safe
// among the survivors in between (losses "in sequence"); heal starts both.
// For the 5-member cluster.
type killTwo struct{ victims []string }

func (f *killTwo) Name() string { return "kill-two" }

func (f *killTwo) Inject(ctx context.Context, c *cluster) error {
	leader, err := c.leader(ctx, c.services)
	if err != nil {
		return err
	}
	for i := len(c.services) - 1; i >= 0 && len(f.victims) < 2; i-- {
		if c.services[i] != leader {
			f.victims = append(f.victims, c.services[i])
		}
	}
	victims := f.victims
	f.victims = nil // Heal starts those actually killed
	for i, v := range victims {
		if _, err := c.docker(ctx, "kill", c.container(v)); err != nil {
			return err
		}
		f.victims = append(f.victims, v)
		live := c.except(victims[:i+1]...)
		if err := c.waitGone(live, v, detectBound); err != nil {
			return err
		}
		if err := c.waitSafe(live, safeBound); err != nil {
			return fmt.Errorf("cluster-safe after killing %s: %w", v, err)
		}
	}
	return nil
}

func (f *killTwo) Heal(ctx context.Context, c *cluster) error {
	for _, v := range f.victims {
		if err := startMember(ctx, c, v); err != nil {
			return err
		}
	}
	return nil
}

// noFault injects nothing: the control run, which shows that the workload
// and the checkers find nothing wrong with a healthy cluster.
type noFault struct{}

func (noFault) Name() string                           { return "none" }
func (noFault) Inject(context.Context, *cluster) error { return nil }
func (noFault) Heal(context.Context, *cluster) error   { return nil }

// isolateFault cuts one member off from the other members only, with
// packet filters in the member's network namespace (nsenter + iptables, as
// root): unlike cutFault the test's clients still reach it, so it shows
// what the minority side does with writes it receives while cut off (it
// must stop acknowledging once its lease has run out). Heal removes the
// filters.
type isolateFault struct {
	victim string
	pid    string
}

func (f *isolateFault) Name() string { return "isolate" }

// canIsolate says why isolateFault cannot run here, or "".
func canIsolate() string {
	if os.Geteuid() != 0 {
		return "needs root (nsenter into a container's network namespace)"
	}
	for _, tool := range []string{"nsenter", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "needs " + tool
		}
	}
	return ""
}

func (f *isolateFault) iptables(ctx context.Context, c *cluster, args ...string) error {
	_, err := command(ctx, c.root, "nsenter", append([]string{"-t", f.pid, "-n", "iptables"}, args...)...)
	return err
}

func (f *isolateFault) Inject(ctx context.Context, c *cluster) error {
	v, err := victim(ctx, c)
	if err != nil {
		return err
	}
	pid, err := c.docker(ctx, "inspect", "-f", "{{.State.Pid}}", c.container(v))
	if err != nil {
		return err
	}
	f.victim, f.pid = v, pid
	for _, peer := range c.except(v) {
		ip := c.ip(peer)
		if err := f.iptables(ctx, c, "-I", "INPUT", "-s", ip, "-j", "DROP"); err != nil {
			return err
		}
		if err := f.iptables(ctx, c, "-I", "OUTPUT", "-d", ip, "-j", "DROP"); err != nil {
			return err
		}
	}
	return c.waitGone(c.except(v), v, detectBound)
}

func (f *isolateFault) Heal(ctx context.Context, c *cluster) error {
	if f.pid == "" {
		return nil
	}
	if err := f.iptables(ctx, c, "-F", "INPUT"); err != nil {
		return err
	}
	if err := f.iptables(ctx, c, "-F", "OUTPUT"); err != nil {
		return err
	}
	return waitFor(readyBound, func(ctx context.Context) error { return c.ready(ctx, f.victim) })
}
