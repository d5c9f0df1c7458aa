package adapters_test

import (
	"log/slog"
	"testing"

	"github.com/sessiongrid/sessiongrid/internal/testlog"
	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/server/servertest"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// startGridnode serves a real gridnode (the RESP server over the in-memory
// store) on a loopback port and returns its address; password, when not
// empty, is required from clients. Everything stops in t.Cleanup.
func startGridnode(t *testing.T, password string) string {
	t.Helper()
	logger := testlog.NewLevel(t, slog.LevelInfo)
	return servertest.Start(t, servertest.Options{
		Config: server.Config{Password: password, Logger: logger},
		Store:  memory.Config{Logger: logger},
	}).Addr
}
