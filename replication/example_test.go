package replication_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/sessiongrid/sessiongrid/cluster"
	"github.com/sessiongrid/sessiongrid/replication"
	"github.com/sessiongrid/sessiongrid/transport"
)

// The wiring of one member: the internal transport, the Raft listener, the
// cluster node advertising both, then the globals. A node alone with
// BootstrapExpect 1 serves globals at once (in memory here: no DataDir).
func ExampleNewGlobals() {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)

	tcfg := transport.DefaultLocalConfig()
	tcfg.Logger = quiet
	tr, err := transport.New(tcfg)
	if err != nil {
		panic(err)
	}
	defer tr.Close(ctx)
	raftLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}

	ccfg := cluster.DefaultLocalConfig()
	ccfg.Name = "node-1"
	ccfg.Logger = quiet
	ccfg.Addrs = cluster.Addresses{Raft: raftLn.Addr().String(), Transport: tr.Addr()}
	node, err := cluster.New(ccfg)
	if err != nil {
		panic(err)
	}
	defer node.Close(ctx)
	if err := node.Join(ctx, nil); err != nil { // no seeds: a new grid
		panic(err)
	}

	gcfg := replication.DefaultLocalGlobalsConfig()
	gcfg.BootstrapExpect = 1
	gcfg.RaftListener = raftLn
	gcfg.Logger = quiet
	globals, err := replication.NewGlobals(gcfg, node, tr)
	if err != nil {
		panic(err)
	}
	defer globals.Close(ctx)

	if err := globals.Save(ctx, "campaign", []byte("spring")); err != nil {
		panic(err)
	}
	v, err := globals.Get(ctx, "campaign")
	fmt.Println(string(v), err, globals.Leader())
	// Output: spring <nil> node-1
}
