package file_test

import (
	"testing"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/file"
	"github.com/sessiongrid/sessiongrid/session/internal/storetest"
)

// benchStore returns a store filled by storetest.Fill.
func benchStore(b *testing.B, fsync bool) *file.Store {
	b.Helper()
	cfg := file.DefaultConfig()
	cfg.Dir, cfg.Fsync, cfg.SweepInterval = b.TempDir(), fsync, -1
	s := storetest.Open(b, file.New, cfg)
	storetest.Fill(b, s)
	return s
}

// BenchmarkGet reads one key of a 4 KB session among 1,000.
func BenchmarkGet(b *testing.B) {
	storetest.BenchGet(b, benchStore(b, false))
}

// BenchmarkSave writes one key of a 4 KB session among 1,000 (a whole-file
// rewrite), with and without fsync.
func BenchmarkSave(b *testing.B) {
	storetest.BenchSave(b, func(b *testing.B, fsync bool) session.Store { return benchStore(b, fsync) })
}
