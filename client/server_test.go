package client

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/server"
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
	store, err := memory.New(memory.Config{DefaultIdle: env.DefaultIdle, Now: env.Now, SweepInterval: -1, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.Logger = testLogger(t)
	cfg.Now = env.Now
	if mod != nil {
		mod(&cfg)
	}
	srv, err := server.New(cfg, store)
	if err != nil {
		store.Close(context.Background())
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		store.Close(context.Background())
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		if err := <-done; err != nil && !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("server Serve returned %v", err)
		}
		store.Close(ctx)
	})
	return &testServer{addr: l.Addr().String(), store: store, srv: srv}
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
		Logger:       testLogger(t),
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

// testLogger routes slog output to t.Log, so it shows only on failure.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
