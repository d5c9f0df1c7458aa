package replication

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/transport"
)

// Malformed forwarded requests get clear errors, and the node keeps serving.
func TestMalformedForwardedRequests(t *testing.T) {
	tg := newGrid(t, 1, 1, false, nil)
	target := tg.nodes[0]
	cfg := transport.DefaultLocalConfig()
	cfg.Logger = tg.log
	cli, err := transport.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close(context.Background())
	ctx := ctxT(t, 10*time.Second)
	cases := []struct {
		name string
		typ  uint16
		req  []byte
		want error
	}{
		{"empty write", msgApply, nil, session.ErrInvalidKey},
		{"garbage write", msgApply, []byte{1, 9, 9, 9}, session.ErrInvalidKey},
		{"key length past the end", msgApply, []byte{1, opSave, 0x7f, 'k'}, session.ErrInvalidKey},
		{"empty read", msgRead, nil, session.ErrInvalidKey},
		{"unknown read op", msgRead, []byte{1, 7, 0}, session.ErrInvalidKey},
		{"garbage probe", msgProbe, []byte("{not json"), session.ErrCodec},
	}
	for _, tc := range cases {
		_, err := cli.Call(ctx, target.trAddr, tc.typ, tc.req)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// A forwarded write with too many hops is refused rather than looped.
	if _, err := cli.Call(ctx, target.trAddr, msgApply, append([]byte{maxHops + 1}, encodeCommand(opSave, "k", []byte("v"))...)); err != nil {
		// The target is the leader: it serves the request whatever the hop
		// count, since it needs no further forwarding.
		t.Fatalf("write at the leader with a high hop count: %v", err)
	}
	if err := target.g.Save(ctx, "still", []byte("serving")); err != nil {
		t.Fatalf("node stopped serving: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, mutate := range map[string]func(*GlobalsConfig){
		"even voters":          func(c *GlobalsConfig) { c.MaxVoters = 4 },
		"expect over voters":   func(c *GlobalsConfig) { c.BootstrapExpect = 5 },
		"no raft address":      func(c *GlobalsConfig) { c.RaftBind = "" },
		"lease over heartbeat": func(c *GlobalsConfig) { c.LeaderLeaseTimeout = 2 * c.HeartbeatTimeout },
		"zero timeout":         func(c *GlobalsConfig) { c.ApplyTimeout = 0 },
	} {
		c := DefaultLocalGlobalsConfig()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := DefaultGlobalsConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}
