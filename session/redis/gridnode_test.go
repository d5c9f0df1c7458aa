package redis_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/server/servertest"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
	"github.com/sessiongrid/sessiongrid/session/memory"
	redisstore "github.com/sessiongrid/sessiongrid/session/redis"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// startGridnode starts gridnode's RESP server in-process on 127.0.0.1:0 over
// a memory store configured by mcfg, and stops both when t ends. It returns
// the address.
func startGridnode(t testing.TB, mcfg memory.Config) string {
	t.Helper()
	mcfg.SweepInterval = -1
	return servertest.Start(t, servertest.Options{Config: server.Config{Now: mcfg.Now}, Store: mcfg}).Addr
}

func newGridnodeStore(t testing.TB, addr string, proto int) *redisstore.Store {
	t.Helper()
	cfg := redisstore.DefaultGridnodeConfig()
	cfg.Addr, cfg.Protocol, cfg.Logger = addr, proto, storetest.Logger(t)
	s, err := redisstore.New(cfg)
	if err != nil {
		t.Fatalf("New(ModeGridnode): %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// TestConformanceGridnode runs the suite against a real gridnode RESP
// server (in-process, real TCP) in ModeGridnode, with both RESP versions.
// The node's store reads the suite's fake clock, so expiry runs on it.
func TestConformanceGridnode(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			sessiontest.Run(t, func(t *testing.T, env sessiontest.Env) session.Manager {
				addr := startGridnode(t, memory.Config{DefaultIdle: env.DefaultIdle, Now: env.Now})
				return session.NewManager(newGridnodeStore(t, addr, proto), session.Config{})
			})
		})
	}
}

// TestGridnodeKeysAreSessionIDs checks that in ModeGridnode the RESP key is
// the session id, so other clients of the grid (redis-cli, redis-py) see
// the same session.
func TestGridnodeKeysAreSessionIDs(t *testing.T) {
	ctx := context.Background()
	addr := startGridnode(t, memory.Config{})
	s := newGridnodeStore(t, addr, 3)
	if _, err := s.Save(ctx, "263771234567", field("stage", `"menu"`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGlobal(ctx, "263771234567", []byte(`"global"`)); err != nil {
		t.Fatal(err)
	}
	raw := newGridnodeStore(t, addr, 2)
	v, err := redisstore.ClientOf(raw).HGet(ctx, "263771234567", "stage").Result()
	if err != nil || v != `"menu"` {
		t.Fatalf("HGET of the session id = %q, %v", v, err)
	}
	if g, err := s.GetGlobal(ctx, "263771234567"); err != nil || string(g) != `"global"` {
		t.Fatalf("global with the same name as a session = %q, %v", g, err)
	}
}

// TestScriptModeRefusesGridnode checks that ModeScript pointed at gridnode,
// which runs no Lua, fails in New with an error naming ModeGridnode.
