package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/grid"
	"github.com/sessiongrid/sessiongrid/gridserver"
	"github.com/sessiongrid/sessiongrid/partition"
	"github.com/sessiongrid/sessiongrid/replication"
	"github.com/sessiongrid/sessiongrid/transport"
)

// clusterOptions are the settings of cluster mode. gridnode runs
// standalone unless --join or --bootstrap-expect is given.
type clusterOptions struct {
	nodeName        string
	join            string
	bootstrapExpect int
	dataDir         string
	gossipAddr      string
	transportAddr   string
	raftAddr        string
	advertise       string
	secret          string
	partitions      int
	maxVoters       int
	joinTimeout     time.Duration
	leaveTimeout    time.Duration
	backups         int
	asyncBackups    int
	backupsSet      bool // --backup-count or --async-backup-count was given
	maxMigrations   int
}

func (c *clusterOptions) enabled() bool { return c.join != "" || c.bootstrapExpect > 0 }

// addClusterFlags registers the cluster flags on fs.
func addClusterFlags(fs *flag.FlagSet, c *clusterOptions) {
	host, _ := os.Hostname()
	fs.StringVar(&c.nodeName, "node-name", host, "cluster mode: this member's unique, stable name (Raft server id)")
	fs.StringVar(&c.join, "join", "", "cluster mode: gossip addresses of members to join, comma-separated host:port (DNS names allowed, port 7946 if omitted); retried until --join-timeout")
	fs.IntVar(&c.bootstrapExpect, "bootstrap-expect", 0, "cluster mode: servers to wait for before the Raft group (globals, partition table) bootstraps; every server of a new grid must give the same number; 1 = a one-node grid")
	fs.StringVar(&c.dataDir, "data-dir", "", "cluster mode: directory of the Raft log and snapshots (globals and the partition table survive restarts); empty: memory only")
	fs.StringVar(&c.gossipAddr, "gossip-addr", "0.0.0.0:7946", "cluster mode: gossip (memberlist) listen address, TCP and UDP")
	fs.StringVar(&c.transportAddr, "transport-addr", "0.0.0.0:7947", "cluster mode: internal node-to-node transport listen address")
	fs.StringVar(&c.raftAddr, "raft-addr", "0.0.0.0:7948", "cluster mode: Raft listen address")
	fs.StringVar(&c.advertise, "advertise", "", "cluster mode: host or IP peers and smart clients use to reach this node (default: the bind address, or the first non-loopback address when binding 0.0.0.0)")
	fs.StringVar(&c.secret, "secret", "", "cluster mode: shared secret of the grid: encrypts gossip and authenticates the internal transport and Raft; every member needs the same")
	fs.IntVar(&c.partitions, "partitions", partition.DefaultCount, "cluster mode: number of partitions; every member must use the same")
	fs.IntVar(&c.maxVoters, "max-voters", 3, "cluster mode: Raft voters (odd: 1, 3, 5, 7); further servers are non-voters")
	fs.DurationVar(&c.joinTimeout, "join-timeout", 60*time.Second, "cluster mode: give up joining after this long (the node then exits: it never serves alone)")
	fs.DurationVar(&c.leaveTimeout, "leave-timeout", 60*time.Second, "cluster mode: on SIGTERM, how long to spend handing partitions over before leaving (the node exits a few seconds after it at the latest)")
	fs.IntVar(&c.backups, "backup-count", 1, "cluster mode: synchronous backups of every session (0-6): a write is acknowledged once the primary and this many backups hold it, so this many members may crash at once without losing it; the grid's first table fixes it")
	fs.IntVar(&c.maxMigrations, "max-migrations", 8, "cluster mode: partitions being copied to new replicas at once, grid-wide (joins, drains, re-replication after a failure)")
	fs.IntVar(&c.asyncBackups, "async-backup-count", 0, "cluster mode: asynchronous backups more (0-6, with --backup-count at most 6): sent every write, not waited for (a crash may lose the last writes to them)")
}

// validate checks the cluster settings.
func (c *clusterOptions) validate() error {
	if !c.enabled() {
		if c.backupsSet {
			return errors.New("--backup-count and --async-backup-count apply to cluster mode only (give --join or --bootstrap-expect); a standalone node keeps one copy of each session")
		}
		return nil
	}
	var errs []error
	if c.maxMigrations < 1 {
		errs = append(errs, fmt.Errorf("--max-migrations must be positive, got %d", c.maxMigrations))
	}
	if c.backups < 0 || c.asyncBackups < 0 || c.backups+c.asyncBackups > grid.MaxBackups {
		errs = append(errs, fmt.Errorf("--backup-count (%d) and --async-backup-count (%d) must be 0..%d together", c.backups, c.asyncBackups, grid.MaxBackups))
	}
	if c.nodeName == "" {
		errs = append(errs, errors.New("--node-name is required in cluster mode"))
	}
	for name, a := range map[string]string{"--gossip-addr": c.gossipAddr, "--transport-addr": c.transportAddr, "--raft-addr": c.raftAddr} {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %v", name, a, err))
		}
	}
	if c.bootstrapExpect < 0 || c.bootstrapExpect > c.maxVoters {
		errs = append(errs, fmt.Errorf("--bootstrap-expect must be in 0..--max-voters (%d), got %d", c.maxVoters, c.bootstrapExpect))
	}
	if c.partitions < 1 || c.partitions > 1<<16 {
		errs = append(errs, fmt.Errorf("--partitions must be in 1..65536, got %d", c.partitions))
	}
	if c.maxVoters < 1 || c.maxVoters > 7 || c.maxVoters%2 == 0 {
		errs = append(errs, fmt.Errorf("--max-voters must be 1, 3, 5 or 7, got %d", c.maxVoters))
	}
	if c.joinTimeout <= 0 || c.leaveTimeout <= 0 {
		errs = append(errs, errors.New("--join-timeout and --leave-timeout must be positive"))
	}
	return errors.Join(errs...)
}

func (c *clusterOptions) seeds() []string {
	var out []string
	for _, s := range strings.Split(c.join, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(s); err != nil {
			s = net.JoinHostPort(s, "7946")
		}
		out = append(out, s)
	}
	return out
}

// startCluster starts this node's grid member and returns the backend the
// RESP server serves: the grid's router, with the Cluster capability.
//
// tlsAddr is the client TLS listener's address ("" without one); mtls the
// member TLS credentials (nil without member TLS).
func startCluster(ctx context.Context, o options, respAddr, tlsAddr string, mtls *transport.MemberCredentials, log *slog.Logger) (*gridserver.Backend, error) {
	c := o.cluster
	ccfg := cluster.DefaultLANConfig()
	ccfg.Name = c.nodeName
	ccfg.Version = version
	host, port, _ := net.SplitHostPort(c.gossipAddr)
	ccfg.BindAddr = host
	fmt.Sscan(port, &ccfg.BindPort)
	tcfg := transport.DefaultConfig()
	tcfg.BindAddr = c.transportAddr
	if mtls != nil {
		tcfg.TLS = mtls.Config()
	}
	gcfg := replication.DefaultGlobalsConfig()
	gcfg.DataDir = c.dataDir
	gcfg.BootstrapExpect = c.bootstrapExpect
	gcfg.MaxVoters = c.maxVoters
	gcfg.RaftBind = c.raftAddr
	gcfg.MaxValueSize = int(o.maxValueBytes)
	grcfg := grid.DefaultConfig()
	grcfg.Partitions = c.partitions
	grcfg.BackupCount, grcfg.AsyncBackupCount = c.backups, c.asyncBackups
	grcfg.MaxMigrations = c.maxMigrations
	mc := o.memoryConfig(nil)
	mc.SweepInterval = 0
	mc.Shards = 0
	grcfg.Store = mc
	grcfg.SweepInterval = o.sweepInterval

	// The client address smart clients dial: the RESP port on the advertised host.
	rh, rp, _ := net.SplitHostPort(respAddr)
	adv := c.advertise
	if adv == "" {
		if ip := net.ParseIP(rh); ip == nil || !ip.IsUnspecified() {
			adv = rh
		}
	}
	if adv != "" {
		ccfg.Addrs.Client = net.JoinHostPort(adv, rp)
	}
	// And the TLS client address, on its own bind host when that is a
	// specific one (--tls-addr) and no --advertise is given.
	if tlsAddr != "" {
		th, tp, _ := net.SplitHostPort(tlsAddr)
		tadv := c.advertise
		if ip := net.ParseIP(th); tadv == "" && (ip == nil || !ip.IsUnspecified()) {
			tadv = th
		} else if tadv == "" {
			tadv = adv
		}
		if tadv != "" {
			ccfg.Addrs.ClientTLS = net.JoinHostPort(tadv, tp)
		}
	}
	if c.secret == "" && mtls == nil {
		log.Warn("no --secret and no member TLS: this member's gossip, internal transport and Raft ports accept anyone who can reach them; set --secret (GRIDNODE_SECRET) on every member",
			"gossip", c.gossipAddr, "transport", c.transportAddr, "raft", c.raftAddr)
	}
	m, err := grid.StartMember(ctx, grid.MemberConfig{
		Cluster: ccfg, Transport: tcfg, Globals: gcfg, Grid: grcfg,
		Seeds: c.seeds(), JoinTimeout: c.joinTimeout, Secret: []byte(c.secret),
		Advertise: c.advertise, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return gridserver.New(m), nil
}
