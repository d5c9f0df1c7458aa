// Package testlog gives tests a *slog.Logger that writes through t.Output,
// so a test's logs show only when it fails (or with -v), attributed to it.
package testlog

import (
	"log/slog"
	"testing"
)

// New returns a debug-level text logger writing to t.
func New(t testing.TB) *slog.Logger {
	return NewLevel(t, slog.LevelDebug)
}

// NewLevel returns a text logger writing to t at level and above.
func NewLevel(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: level}))
}
