package bolt

import (
	"context"
	"path/filepath"
	"testing"
)

// TestCommitsAreFsynced: the default configuration, with and without
// batching, opens bbolt with fsync on every commit (DB.NoSync false) and
// on file growth (NoGrowSync false); Config.NoSync is the only way to turn
// it off. bbolt has no file-system seam (its writes go through an
// unexported WriteAt on an *os.File, its fdatasync is a package function),
// so this checks the handle's settings; TestPowerLossKeepsAcknowledgedWrites
// simulates the power loss itself, through strace. The
// test fails if the store opens bbolt with NoSync.
func TestCommitsAreFsynced(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		batch  bool
		noSync bool
	}{{"default", false, false}, {"batch", true, false}, {"NoSync", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Path = filepath.Join(t.TempDir(), "sessions.db")
			cfg.SweepInterval = -1
			cfg.Batch = tc.batch
			cfg.NoSync = tc.noSync
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			if s.db.NoSync != tc.noSync {
				t.Fatalf("bbolt DB.NoSync = %v with Config.NoSync %v: commits are not fsynced as configured", s.db.NoSync, tc.noSync)
			}
			if s.db.NoGrowSync {
				t.Fatal("bbolt DB.NoGrowSync is set: file growth is not fsynced")
			}
		})
	}
}
