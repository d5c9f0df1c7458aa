package redis_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/server"
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
	mcfg.Logger = storetest.Logger(t)
	store, err := memory.New(mcfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Logger: storetest.Logger(t), Now: mcfg.Now}, store)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("gridnode Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("gridnode Serve returned %v", err)
		}
		_ = store.Close(ctx)
	})
	return l.Addr().String()
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
