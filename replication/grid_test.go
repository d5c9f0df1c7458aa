package replication

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/internal/testpoll"
	"github.com/sessiongrid/sessiongrid/transport"
)

// testNet simulates network cuts between the nodes of a test grid: every
// node's gossip, Raft and transport traffic goes through its Blocked hooks,
// which consult this table. Cuts are symmetric.
type testNet struct {
	mu    sync.Mutex
	owner map[string]int // address → node index
	cut   map[[2]int]bool
}

func newTestNet() *testNet {
	return &testNet{owner: make(map[string]int), cut: make(map[[2]int]bool)}
}

func (n *testNet) register(i int, addrs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range addrs {
		n.owner[a] = i
	}
}

func (n *testNet) blocked(from int) func(addr string) bool {
	return func(addr string) bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		to, ok := n.owner[addr]
		return ok && n.cut[[2]int{from, to}]
	}
}

// isolate cuts every link between group and the other nodes of size.
func (n *testNet) isolate(size int, group ...int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	in := make(map[int]bool)
	for _, g := range group {
		in[g] = true
	}
	for a := range size {
		for b := range size {
			if in[a] != in[b] {
				n.cut[[2]int{a, b}] = true
			}
		}
	}
}

func (n *testNet) heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = make(map[[2]int]bool)
}

// testLog routes slog output to t.Log until the test ends.
type testLog struct {
	t    testing.TB
	done atomic.Bool
}

func (l *testLog) Write(p []byte) (int, error) {
	if !l.done.Load() {
		l.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// gridNode is one member of a test grid.
type gridNode struct {
	name       string
	role       cluster.Role
	dataDir    string
	gossipPort int
	raftAddr   string
	trAddr     string

	tr   *transport.Transport
	node *cluster.Node
	g    *Globals
	up   bool
}

// testGrid is a grid of real nodes in this process.
type testGrid struct {
	t      testing.TB
	net    *testNet
	log    *slog.Logger
	nodes  []*gridNode
	mutate func(i int, c *GlobalsConfig)
	// secret, when set before the nodes start, is the cluster secret of
	// their transports (and so of Raft) and the key of their gossip.
	secret []byte
	// tls, when set, gives each node's member TLS configuration.
	tls func(name string) *tls.Config
}

// newGrid starts size server nodes with BootstrapExpect expect (and
// DataDirs when persist), and waits for a leader.
func newGrid(t testing.TB, size, expect int, persist bool, mutate func(i int, c *GlobalsConfig)) *testGrid {
	t.Helper()
	// Temporary directories first: cleanups run last-in first-out, and the
	// nodes must close before their directories are removed.
	dirs := make([]string, size)
	if persist {
		for i := range dirs {
			dirs[i] = t.TempDir()
		}
	}
	tg := newEmptyGrid(t, mutate)
	for i := range size {
		tg.nodes = append(tg.nodes, &gridNode{name: fmt.Sprintf("n%d", i+1), role: cluster.RoleServer, dataDir: dirs[i]})
	}
	for i := range size {
		tg.start(i, expect)
	}
	tg.waitLeader()
	return tg
}

// newEmptyGrid returns a grid without nodes; it is closed when the test
// ends.
func newEmptyGrid(t testing.TB, mutate func(i int, c *GlobalsConfig)) *testGrid {
	l := &testLog{t: t}
	var handler slog.Handler = slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo})
	if _, bench := t.(*testing.B); bench {
		handler = slog.DiscardHandler // benchmarks print every b.Log line
	}
	tg := &testGrid{
		t:      t,
		net:    newTestNet(),
		log:    slog.New(handler),
		mutate: mutate,
	}
	t.Cleanup(func() {
		tg.closeAll()
		l.done.Store(true)
	})
	return tg
}

// addNode starts one more node of role role.
func (tg *testGrid) addNode(role cluster.Role, expect int) int {
	gn := &gridNode{name: fmt.Sprintf("n%d", len(tg.nodes)+1), role: role}
	tg.nodes = append(tg.nodes, gn)
	tg.start(len(tg.nodes)-1, expect)
	return len(tg.nodes) - 1
}

func listenOn(t testing.TB, addr string) net.Listener {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var err error
	for range 50 { // a restarted node reuses its port; it may linger briefly
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listen %s: %v", addr, err)
	return nil
}

// start starts node i (again, with the same addresses and data directory,
// when it ran before) and joins it to the running nodes.
func (tg *testGrid) start(i, expect int) {
	t := tg.t
	t.Helper()
	gn := tg.nodes[i]
	logger := tg.log.With("test_node", gn.name)
	raftLn := listenOn(t, gn.raftAddr)
	trLn := listenOn(t, gn.trAddr)
	gn.raftAddr, gn.trAddr = raftLn.Addr().String(), trLn.Addr().String()

	tcfg := transport.DefaultLocalConfig()
	tcfg.Listener = trLn
	tcfg.Logger = logger
	tcfg.Blocked = tg.net.blocked(i)
	tcfg.Secret = tg.secret
	if tg.tls != nil {
		tcfg.TLS = tg.tls(gn.name)
	}
	tr, err := transport.New(tcfg)
	if err != nil {
		t.Fatalf("%s: transport: %v", gn.name, err)
	}
	ccfg := cluster.DefaultLocalConfig()
	ccfg.Name = gn.name
	ccfg.Role = gn.role
	ccfg.BindPort = gn.gossipPort
	ccfg.Addrs = cluster.Addresses{Raft: gn.raftAddr, Transport: gn.trAddr}
	if gn.role != cluster.RoleServer {
		ccfg.Addrs.Raft = ""
	}
	ccfg.Logger = logger
	ccfg.Blocked = tg.net.blocked(i)
	if len(tg.secret) > 0 {
		key := sha256.Sum256(tg.secret)
		ccfg.SecretKey = key[:]
	}
	node, err := cluster.New(ccfg)
	if err != nil {
		t.Fatalf("%s: cluster: %v", gn.name, err)
	}
	_, portStr, _ := net.SplitHostPort(node.GossipAddr())
	gn.gossipPort, _ = strconv.Atoi(portStr)
	tg.net.register(i, node.GossipAddr(), gn.raftAddr, gn.trAddr)

	var seeds []string
	for j, o := range tg.nodes {
		if j != i && o.up {
			seeds = append(seeds, o.node.GossipAddr())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Join(ctx, seeds); err != nil {
		t.Fatalf("%s: join: %v", gn.name, err)
	}
	gcfg := DefaultLocalGlobalsConfig()
	gcfg.DataDir = gn.dataDir
	gcfg.BootstrapExpect = expect
	gcfg.RaftListener = raftLn
	gcfg.Logger = logger
	gcfg.Blocked = tg.net.blocked(i)
	if tg.mutate != nil {
		tg.mutate(i, &gcfg)
	}
	if gn.role != cluster.RoleServer {
		_ = raftLn.Close()
		gcfg.RaftListener = nil
	}
	g, err := NewGlobals(gcfg, node, tr)
	if err != nil {
		t.Fatalf("%s: globals: %v", gn.name, err)
	}
	gn.tr, gn.node, gn.g, gn.up = tr, node, g, true
}

// kill stops node i without a leave, as a crash would.
func (tg *testGrid) kill(i int) {
	gn := tg.nodes[i]
	if !gn.up {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := gn.g.Close(ctx); err != nil {
		tg.t.Errorf("%s: close globals: %v", gn.name, err)
	}
	if err := gn.tr.Close(ctx); err != nil {
		tg.t.Errorf("%s: close transport: %v", gn.name, err)
	}
	if err := gn.node.Close(ctx); err != nil {
		tg.t.Errorf("%s: close node: %v", gn.name, err)
	}
	if d := time.Since(start); d > time.Second {
		tg.t.Logf("killing %s took %v", gn.name, d)
	}
	gn.up = false
}

func (tg *testGrid) closeAll() {
	var wg sync.WaitGroup
	for i := range tg.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tg.kill(i)
		}()
	}
	wg.Wait()
}

// up returns the indexes of running nodes.
func (tg *testGrid) running() []int {
	var out []int
	for i, gn := range tg.nodes {
		if gn.up {
			out = append(out, i)
		}
	}
	return out
}

// waitVoters waits (10 s at most) until node 0 counts n voters.
func (tg *testGrid) waitVoters(ctx context.Context, n int) {
	tg.t.Helper()
	testpoll.Until(tg.t, 10*time.Second, strconv.Itoa(n)+" voters", func() bool { return len(tg.nodes[0].g.Voters(ctx)) == n })
}

// waitLeader waits until every running server agrees on one leader that is
// itself running, and returns its index.
func (tg *testGrid) waitLeader() int {
	tg.t.Helper()
	leader := -1
	testpoll.Until(tg.t, 20*time.Second, "one leader agreed by every running server", func() bool {
		name := ""
		for _, i := range tg.running() {
			gn := tg.nodes[i]
			if gn.role != cluster.RoleServer {
				continue
			}
			l := gn.g.Leader()
			if l == "" || (name != "" && l != name) {
				return false
			}
			name = l
		}
		for _, i := range tg.running() {
			if tg.nodes[i].name == name && tg.nodes[i].g.IsLeader() {
				leader = i
				return true
			}
		}
		return false
	})
	return leader
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
