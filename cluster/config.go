package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/sessiongrid/sessiongrid/partition"

	"github.com/hashicorp/memberlist"
)

// Config configures a Node. It is copied by New and never changed
// afterwards.
type Config struct {
	// Name is the member's stable, unique name: its memberlist name and its
	// Raft server id. Default (DefaultLANConfig): the host name.
	Name string
	// ClusterName, when set, labels every gossip message; members with
	// another label ignore them (memberlist's Label).
	ClusterName string
	// BindAddr and BindPort are the gossip listener (UDP and TCP on one
	// port). BindPort 0 picks a free port.
	BindAddr string
	BindPort int
	// AdvertiseAddr and AdvertisePort are what peers dial to reach us
	// (containers: an address peers can reach). Default: derived from the
	// bind address and port.
	AdvertiseAddr string
	AdvertisePort int
	// Role, Version, Partitions and Addrs fill the metadata this node
	// advertises (see Meta).
	Role       Role
	Version    string
	Partitions int
	Addrs      Addresses
	// SecretKey, when set, encrypts gossip (AES-GCM; 16, 24 or 32 bytes).
	// Every member must have the same key.
	SecretKey []byte

	// Failure detection (memberlist's names): a member is probed every
	// ProbeInterval, suspected when a direct and indirect probes get no ack
	// within ProbeTimeout, and declared dead SuspicionMult*max(1,log10(n))*
	// ProbeInterval after that, up to SuspicionMaxTimeoutMult times longer
	// when no other member confirms the suspicion.
	ProbeInterval           time.Duration
	ProbeTimeout            time.Duration
	SuspicionMult           int
	SuspicionMaxTimeoutMult int
	// GossipInterval is the period of gossip rounds; PushPullInterval the
	// period of full state exchanges; TCPTimeout bounds TCP gossip.
	GossipInterval   time.Duration
	PushPullInterval time.Duration
	TCPTimeout       time.Duration

	// JoinRetryMin and JoinRetryMax bound the backoff between join attempts.
	JoinRetryMin time.Duration
	JoinRetryMax time.Duration
	// EventBuffer is the capacity of each subscription's channel; events to
	// a full subscription are dropped and counted.
	EventBuffer int
	// DeadRetention is how long dead and left members stay listed.
	DeadRetention time.Duration
	// ReconnectInterval is how often the node tries to reach members it
	// declared dead (not those that left), so that the two sides of a healed
	// network cut merge again (memberlist alone stops gossiping to dead
	// members; Serf's reconnect does the same). Dead members are retried
	// for DeadRetention.
	ReconnectInterval time.Duration

	// Logger receives the node's and memberlist's logs.
	Logger *slog.Logger
	// Tune, when set, may change the memberlist configuration after this
	// Config has been applied (knobs not exposed here). It must not replace
	// the delegates or the transport.
	Tune func(*memberlist.Config)
	// Blocked is a test hook that simulates a network cut: while it returns
	// true for a gossip address, packets and streams to it are dropped.
	// Cuts are applied by the sender, so a symmetric cut needs the hook on
	// both sides. Nil in production.
	Blocked func(addr string) bool
}

// DefaultLANConfig returns a configuration for a LAN: gossip on port 7946,
// faster failure detection than memberlist's LAN profile (probe every
// 500 ms, suspicion 3 × 500 ms up to 4×): a killed member is declared dead in
// about 2–3 s when other members confirm the suspicion, at most about 7 s.
func DefaultLANConfig() Config {
	host, _ := os.Hostname()
	return Config{
		Name:                    host,
		BindAddr:                "0.0.0.0",
		BindPort:                7946,
		Role:                    RoleServer,
		Version:                 "dev",
		Partitions:              partition.DefaultCount,
		ProbeInterval:           500 * time.Millisecond,
		ProbeTimeout:            250 * time.Millisecond,
		SuspicionMult:           3,
		SuspicionMaxTimeoutMult: 4,
		GossipInterval:          100 * time.Millisecond,
		PushPullInterval:        15 * time.Second,
		TCPTimeout:              5 * time.Second,
		JoinRetryMin:            200 * time.Millisecond,
		JoinRetryMax:            5 * time.Second,
		EventBuffer:             256,
		DeadRetention:           time.Hour,
		ReconnectInterval:       10 * time.Second,
	}
}

// DefaultLocalConfig returns a configuration for tests on loopback: a free
// port on 127.0.0.1, probes every 200 ms, and a killed member declared dead
// in about 1 s. Name must still be set.
func DefaultLocalConfig() Config {
	c := DefaultLANConfig()
	c.Name = ""
	c.BindAddr = "127.0.0.1"
	c.BindPort = 0
	c.ProbeInterval = 200 * time.Millisecond
	c.ProbeTimeout = 100 * time.Millisecond
	c.SuspicionMult = 3
	c.SuspicionMaxTimeoutMult = 3
	c.GossipInterval = 50 * time.Millisecond
	c.PushPullInterval = 5 * time.Second
	c.TCPTimeout = 2 * time.Second
	c.JoinRetryMin = 50 * time.Millisecond
	c.JoinRetryMax = 500 * time.Millisecond
	c.ReconnectInterval = time.Second
	return c
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("Name is required"))
	}
	if !c.Role.Valid() {
		errs = append(errs, fmt.Errorf("unknown Role %q", c.Role))
	}
	if c.Partitions <= 0 {
		errs = append(errs, fmt.Errorf("Partitions must be positive, got %d", c.Partitions))
	}
	if c.BindPort < 0 || c.BindPort > 65535 || c.AdvertisePort < 0 || c.AdvertisePort > 65535 {
		errs = append(errs, errors.New("ports must be in 0..65535"))
	}
	if n := len(c.SecretKey); n != 0 && n != 16 && n != 24 && n != 32 {
		errs = append(errs, fmt.Errorf("SecretKey must be 16, 24 or 32 bytes, got %d", n))
	}
	if c.ProbeInterval <= 0 || c.ProbeTimeout <= 0 || c.ProbeTimeout >= c.ProbeInterval {
		errs = append(errs, errors.New("need 0 < ProbeTimeout < ProbeInterval"))
	}
	if c.SuspicionMult < 1 || c.SuspicionMaxTimeoutMult < 1 {
		errs = append(errs, errors.New("SuspicionMult and SuspicionMaxTimeoutMult must be >= 1"))
	}
	if c.GossipInterval <= 0 || c.PushPullInterval <= 0 || c.TCPTimeout <= 0 {
		errs = append(errs, errors.New("GossipInterval, PushPullInterval and TCPTimeout must be positive"))
	}
	if c.JoinRetryMin <= 0 || c.JoinRetryMax < c.JoinRetryMin {
		errs = append(errs, errors.New("need 0 < JoinRetryMin <= JoinRetryMax"))
	}
	if c.ReconnectInterval <= 0 {
		errs = append(errs, errors.New("ReconnectInterval must be positive"))
	}
	if c.EventBuffer < 0 {
		errs = append(errs, errors.New("EventBuffer must not be negative"))
	}
	if meta, err := encodeMeta(c.meta("0123456789abcdef")); err != nil || len(meta) > memberlist.MetaMaxSize {
		errs = append(errs, fmt.Errorf("metadata too large (%d bytes, limit %d): shorten the addresses or version", len(meta), memberlist.MetaMaxSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster: invalid config: %w", err)
	}
	return nil
}

// meta returns the metadata this configuration advertises with node id id.
func (c Config) meta(id string) Meta {
	return Meta{ID: id, Role: c.Role, Version: c.Version, Protocol: ProtocolVersion, Partitions: c.Partitions, Addrs: c.Addrs}
}

// DetectionBounds returns the time from a member's death to its being
// declared dead in a grid of n members, as implied by the configuration:
// at best one probe timeout plus the minimum suspicion timeout (when other
// members confirm the suspicion), at worst a full probe interval plus the
// maximum suspicion timeout. Measured times sit near the lower bound when
// n >= 3 (see BenchmarkDetectDeadMember).
func (c Config) DetectionBounds(n int) (lo, hi time.Duration) {
	scale := math.Max(1, math.Log10(math.Max(1, float64(n))))
	minSusp := time.Duration(float64(c.SuspicionMult) * scale * float64(c.ProbeInterval))
	return c.ProbeTimeout + minSusp, c.ProbeInterval + time.Duration(c.SuspicionMaxTimeoutMult)*minSusp
}

// memberlistConfig builds the memberlist configuration.
func (c Config) memberlistConfig() *memberlist.Config {
	m := memberlist.DefaultLANConfig()
	m.Name = c.Name
	m.Label = c.ClusterName
	m.BindAddr = c.BindAddr
	m.BindPort = c.BindPort
	m.AdvertiseAddr = c.AdvertiseAddr
	m.AdvertisePort = c.AdvertisePort
	m.SecretKey = c.SecretKey
	m.ProbeInterval = c.ProbeInterval
	m.ProbeTimeout = c.ProbeTimeout
	m.SuspicionMult = c.SuspicionMult
	m.SuspicionMaxTimeoutMult = c.SuspicionMaxTimeoutMult
	m.GossipInterval = c.GossipInterval
	m.PushPullInterval = c.PushPullInterval
	m.TCPTimeout = c.TCPTimeout
	m.GossipToTheDeadTime = 2 * c.PushPullInterval
	// A restarted member may come back on another address (a container
	// with a new IP) once its old incarnation is dead or left.
	m.DeadNodeReclaimTime = c.ProbeInterval
	if c.Tune != nil {
		c.Tune(m)
	}
	return m
}
