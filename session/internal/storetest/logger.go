package storetest

import (
	"log/slog"
	"strings"
	"testing"
)

// Logger returns a logger for a store's Config.Logger that routes every
// record, debug included, to t.Log: shown only when the test fails.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// tWriter writes each log line with t.Log.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
