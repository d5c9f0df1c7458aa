package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/bolt"
	"github.com/sessiongrid/sessiongrid/session/cache"
	"github.com/sessiongrid/sessiongrid/session/file"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// localStore is an in-process backend of a target: a session.Store
// factory. Each starts from its package's DefaultConfig and changes only
// what the target says (options, paths, the cache's bound); the settings
// string names what matters for speed.
type localStore struct {
	// settings describes the measured configuration.
	settings string
	// open opens the store as configured; with fast, without the fsyncs
	// the configuration has (for the preload, which is not measured).
	open func(fast bool) (session.Store, error)
	// fastPreload is set when the configuration fsyncs: the preload then
	// runs on a store opened with open(true), closed and reopened with
	// open(false) before the measurement. The data are the same; only
	// their way to the disk differs, and the preload takes seconds, not
	// minutes.
	fastPreload bool
	// notes describes the store after the run (evictions, bytes on disk).
	notes func(session.Store) []string
	// temp is a directory created for the target, removed at close.
	temp string
}

// newLocalStore returns the factory of spec's in-process store, nil for
// the server kinds. A temporary directory is created for file and bolt
// targets without a path.
func newLocalStore(spec targetSpec, o options, sessions int) (*localStore, error) {
	switch spec.Kind {
	case kindMemory:
		cfg := memory.DefaultConfig()
		cfg.Logger = o.Logger
		return &localStore{
			settings: fmt.Sprintf("session/memory DefaultConfig: %d shards, idle %v, sweep every %v", cfg.Shards, cfg.DefaultIdle, cfg.SweepInterval),
			open:     func(bool) (session.Store, error) { return memory.New(cfg) },
			notes: func(s session.Store) []string {
				st := s.(*memory.Store).Stats()
				return []string{fmt.Sprintf("%d sessions, %s payload held, %d expired", st.Sessions, bytesString(st.Bytes), st.Expired)}
			},
		}, nil
	case kindFile:
		ls := &localStore{}
		dir, where, err := storagePath(spec, "gridbench-file-", "", ls)
		if err != nil {
			return nil, err
		}
		cfg := file.DefaultConfig()
		cfg.Dir, cfg.Logger = dir, o.Logger
		cfg.Fsync = !spec.has(optNoSync)
		ls.fastPreload = cfg.Fsync
		ls.settings = fmt.Sprintf("session/file: dir %s%s, fsync %s, idle %v, sweep every %v",
			dir, where, onOff(cfg.Fsync), cfg.DefaultIdle, cfg.SweepInterval)
		if cfg.Fsync {
			ls.settings += "; preloaded with fsync off, measured with fsync on"
		}
		ls.open = func(fast bool) (session.Store, error) {
			c := cfg
			c.Fsync = cfg.Fsync && !fast
			return file.New(c)
		}
		ls.notes = func(s session.Store) []string {
			st := s.(*file.Store).Stats()
			return []string{fmt.Sprintf("%s on disk in %d files, %d expired, %d corrupt", bytesString(diskUsage(dir)), fileCount(dir), st.Expired, st.Corrupt)}
		}
		return ls, nil
	case kindBolt:
		ls := &localStore{}
		path, where, err := storagePath(spec, "gridbench-bolt-", "sessions.db", ls)
		if err != nil {
			return nil, err
		}
		cfg := bolt.DefaultConfig()
		cfg.Path, cfg.Logger = path, o.Logger
		cfg.NoSync = spec.has(optNoSync)
		cfg.Batch = spec.has(optBatch)
		ls.fastPreload = !cfg.NoSync
		batch := "off"
		if cfg.Batch {
			batch = fmt.Sprintf("on (delay %v)", cfg.BatchDelay)
		}
		ls.settings = fmt.Sprintf("session/bolt: file %s%s, fsync %s (NoSync %v), batch %s, idle %v, sweep every %v",
			path, where, onOff(!cfg.NoSync), cfg.NoSync, batch, cfg.DefaultIdle, cfg.SweepInterval)
		if !cfg.NoSync {
			ls.settings += "; preloaded with NoSync, measured with fsync on"
		}
		ls.open = func(fast bool) (session.Store, error) {
			c := cfg
			c.NoSync = cfg.NoSync || fast
			return bolt.New(c)
		}
		ls.notes = func(s session.Store) []string {
			st := s.(*bolt.Store).Stats()
			return []string{fmt.Sprintf("database file %s, %d expired, %d corrupt", bytesString(diskUsage(path)), st.Expired, st.Corrupt)}
		}
		return ls, nil
	case kindCache:
		cfg := cache.DefaultConfig()
		// Sized to hold the whole population: the target measures the
		// cache's speed, not its eviction (reported in the notes, and 0
		// when the bound holds).
		cfg.MaxSessions, cfg.Logger = sessions, o.Logger
		return &localStore{
			settings: fmt.Sprintf("session/cache: MaxSessions %d (the population: no eviction), idle %v", cfg.MaxSessions, cfg.DefaultIdle),
			open:     func(bool) (session.Store, error) { return cache.New(cfg) },
			notes: func(s session.Store) []string {
				c := s.(*cache.Store)
				c.CleanUp()
				st := c.Stats()
				return []string{fmt.Sprintf("%d sessions, %s payload held, %d evictions, %d expirations", st.Sessions, bytesString(st.Bytes), st.Evictions, st.Expirations)}
			},
		}, nil
	}
	return nil, nil
}

// storagePath returns spec's path, or a new temporary directory (recorded
// in ls.temp) holding name when spec gives none; where says which.
func storagePath(spec targetSpec, pattern, name string, ls *localStore) (path, where string, err error) {
	if spec.Path != "" {
		return spec.Path, " (given, kept)", nil
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", "", err
	}
	ls.temp = dir
	return filepath.Join(dir, name), " (temporary, removed afterwards)", nil
}

// removeTemp removes a temporary directory of a target.
func removeTemp(dir string) error { return os.RemoveAll(dir) }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// bytesString formats n bytes with a binary unit.
func bytesString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
