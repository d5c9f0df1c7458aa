package client

import (
	"context"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testlog"
	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/server/servertest"
	"github.com/sessiongrid/sessiongrid/session/memory"
	"github.com/sessiongrid/sessiongrid/session/sessiontest"
)

// testServer is a gridnode server started in-process on 127.0.0.1:0.
type testServer struct {
	addr  string
	store *memory.Store
	srv   *server.Server
}

// startServer starts a server over a memory store that reads env's clock
// (no background sweep) and stops both when the test ends. mod may adjust
// the server's config.
func startServer(t testing.TB, env sessiontest.Env, mod func(*server.Config)) *testServer {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Now = env.Now
	if mod != nil {
		mod(&cfg)
	}
	s := servertest.Start(t, servertest.Options{
		Config: cfg,
		Store:  memory.Config{DefaultIdle: env.DefaultIdle, Now: env.Now, SweepInterval: -1},
	})
	return &testServer{addr: s.Addr, store: s.Store, srv: s.Server}
}

// realEnv is the Env of tests that run on real time.
func realEnv() sessiontest.Env {
	return sessiontest.Env{Now: time.Now, DefaultIdle: 30 * time.Minute}
}

// newTestRemote returns a Remote for addr with test-sized timeouts, closed
// when the test ends.
func newTestRemote(t testing.TB, addr string, mod func(*RemoteConfig)) *Remote {
	t.Helper()
	cfg := RemoteConfig{
		Addr:         addr,
		DialTimeout:  time.Second,
		ReadTimeout:  2 * time.Second,
		WriteTimeout: 2 * time.Second,
		Logger:       testlog.New(t),
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := NewRemote(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}
