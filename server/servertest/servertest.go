// Package servertest starts real gridnode RESP servers on a loopback port
// for tests, as net/http/httptest does for HTTP servers: a *server.Server
// over a memory store, serving on 127.0.0.1:0, stopped (and checked to stop
// cleanly) when the test ends.
package servertest

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testlog"
	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// Options configure Start. The zero value is a server with default settings
// over a default memory store.
type Options struct {
	// Config is the server's configuration; its Logger is the test's (see
	// package testlog) when nil.
	Config server.Config
	// Store is the memory store's configuration; its Logger is the test's
	// when nil. Set SweepInterval to -1 for tests that drive expiry with a
	// fake clock.
	Store memory.Config
	// Wrap, when set, wraps the store in the backend the server serves.
	Wrap func(server.Backend) server.Backend
}

// Server is a running test server.
type Server struct {
	// Addr is the address clients dial (127.0.0.1:port).
	Addr string
	// Server is the RESP server.
	Server *server.Server
	// Store is the memory store under it.
	Store *memory.Store
}

// Start starts a server and registers its shutdown with t.Cleanup: the
// server is shut down within 10 s, Serve must return
// server.ErrServerClosed, and the store is closed. A failure to start ends
// the test.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Store.Logger == nil {
		opts.Store.Logger = testlog.New(t)
	}
	if opts.Config.Logger == nil {
		opts.Config.Logger = testlog.New(t)
	}
	store, err := memory.New(opts.Store)
	if err != nil {
		t.Fatalf("servertest: memory store: %v", err)
	}
	var backend server.Backend = store
	if opts.Wrap != nil {
		backend = opts.Wrap(store)
	}
	srv, err := server.New(opts.Config, backend)
	if err != nil {
		store.Close(context.Background())
		t.Fatalf("servertest: server: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		store.Close(context.Background())
		t.Fatalf("servertest: listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("servertest: Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("servertest: Serve returned %v, want server.ErrServerClosed", err)
		}
		if err := store.Close(ctx); err != nil {
			t.Errorf("servertest: store Close: %v", err)
		}
	})
	return &Server{Addr: l.Addr().String(), Server: srv, Store: store}
}
