package adapters_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// startGridnode serves a real gridnode (the RESP server over the in-memory
// store) on a loopback port and returns its address; password, when not
// empty, is required from clients. Everything stops in t.Cleanup.
func startGridnode(t *testing.T, password string) string {
	t.Helper()
	logger := testLogger(t)
	store, err := memory.New(memory.Config{Logger: logger})
	if err != nil {
		t.Fatalf("memory.New: %v", err)
	}
	srv, err := server.New(server.Config{Password: password, Logger: logger}, store)
	if err != nil {
		store.Close(context.Background())
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		store.Close(context.Background())
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if err := store.Close(ctx); err != nil {
			t.Errorf("store Close: %v", err)
		}
	})
	return ln.Addr().String()
}

// testLogger routes logs to t.Log, so they show only on failure (or -v).
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

var _ io.Writer = tWriter{}
