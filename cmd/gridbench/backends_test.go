package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/bolt"
	"github.com/sessiongrid/sessiongrid/session/file"
)

// TestLocalTargets runs every in-process backend for half a second each in
// one invocation (file and bolt without fsync), with a tiny population and
// one per-target population, and checks that each produced figures without
// errors, said which settings it used, and left no temporary directory.
func TestLocalTargets(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	rep, stdout, stderr := readReport(t, "-targets", "memory,file+nosync,bolt+nosync,cache",
		"-duration", "500ms", "-warmup", "100ms", "-sessions", "300", "-population", "bolt=150", "-clients", "4")
	want := []struct {
		target, settings string
		sessions         int
	}{
		{"memory", "session/memory", 300},
		{"file+nosync", "fsync off", 300},
		{"bolt+nosync", "NoSync true", 150},
		{"cache", "MaxSessions 300", 300},
	}
	if len(rep.Results) != len(want) {
		t.Fatalf("%d results, want %d\nstderr:\n%s", len(rep.Results), len(want), stderr)
	}
	for i, w := range want {
		r := rep.Results[i]
		if r.Target != w.target {
			t.Fatalf("result %d is %s, want %s", i, r.Target, w.target)
		}
		checkResult(t, r)
		if r.Seconds < 0.45 || r.Seconds > 2 {
			t.Errorf("%s: measured %.2fs, want about 0.5s", r.Target, r.Seconds)
		}
		if r.Sessions != w.sessions || r.DistinctUsers > w.sessions {
			t.Errorf("%s: population %d with %d distinct users, want %d", r.Target, r.Sessions, r.DistinctUsers, w.sessions)
		}
		if !strings.Contains(r.Settings, w.settings) {
			t.Errorf("%s: settings %q do not say %q", r.Target, r.Settings, w.settings)
		}
		if len(r.Notes) == 0 {
			t.Errorf("%s: no notes after the run", r.Target)
		}
		if !strings.Contains(stdout, r.Target+": "+r.Settings) {
			t.Errorf("%s: settings not printed:\n%s", r.Target, stdout)
		}
	}
	if n := rep.Results[3].Notes[0]; !strings.Contains(n, " 0 evictions") {
		t.Errorf("the cache holding the whole population evicted: %s", n)
	}
	if !strings.Contains(stderr, "[bolt+nosync] preloaded 150 sessions") {
		t.Errorf("bolt's population override not applied:\n%s", stderr)
	}
	if rep.Config.Populations["bolt"] != 150 {
		t.Errorf("report config populations = %v", rep.Config.Populations)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "gridbench-") {
			t.Errorf("temporary %s left behind", e.Name())
		}
	}
}

// TestGivenPaths runs file (fsync on, the default) and bolt (fsync on) on
// a directory and a database given on the command line: the preload runs
// without fsyncs and the store is reopened as configured, the paths are
// kept, and -cleanup removes every session of the benchmark from them.
func TestGivenPaths(t *testing.T) {
	dir := t.TempDir()
	fdir, bpath := filepath.Join(dir, "files"), filepath.Join(dir, "sessions.db")
	rep, _, _ := readReport(t, "-targets", "file="+fdir+",bolt="+bpath, "-messages", "150",
		"-sessions", "100", "-clients", "3", "-progress=false")
	for _, r := range checkResults(t, rep, 2, 150) {
		if !strings.Contains(r.Settings, "fsync on") || !strings.Contains(r.Settings, "(given, kept)") || !strings.Contains(r.Settings, "measured with fsync on") {
			t.Errorf("%s: settings %q", r.Target, r.Settings)
		}
	}

	ctx := context.Background()
	fcfg := file.DefaultConfig()
	fcfg.Dir, fcfg.SweepInterval = fdir, -1
	fs, err := file.New(fcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close(ctx)
	bcfg := bolt.DefaultConfig()
	bcfg.Path, bcfg.SweepInterval = bpath, -1
	bs, err := bolt.New(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close(ctx)
	w := defaultWorkload()
	w.Sessions = 100
	for i, st := range []session.Store{fs, bs} {
		pop := newPopulation(&w, "gb:t"+string(rune('1'+i))+":")
		for _, id := range pop.ids {
			if _, err := st.TTL(ctx, id); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("%s: session %s after -cleanup: TTL error %v, want ErrNotFound", rep.Results[i].Target, id, err)
			}
		}
	}
}

// redisServer starts a redis-server for t listening on a unix socket only,
// and returns the socket's path and the process id. A missing redis-server
// fails the test unless SESSIONGRID_ALLOW_MISSING_TOOLS=1.
func redisServer(t *testing.T) (string, int) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("SESSIONGRID_ALLOW_MISSING_TOOLS") == "1" {
			t.Skipf("redis-server not installed and SESSIONGRID_ALLOW_MISSING_TOOLS=1: %v", err)
		}
		t.Fatalf("redis-server is required (apt-get install redis-server); set SESSIONGRID_ALLOW_MISSING_TOOLS=1 to skip: %v", err)
	}
	// Not t.TempDir: a socket path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "gbredis")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "redis.sock")
	var log bytes.Buffer
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("redis-server log:\n%s", log.String())
		}
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return sock, cmd.Process.Pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v", sock, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRedisStoreTarget runs the Redis backend (script mode) and the plain
// hash commands against a real redis-server in one invocation, and checks
// that the server's CPU is measured and every key is gone afterwards.
func TestRedisStoreTarget(t *testing.T) {
	sock, pid := redisServer(t)
	rep, stdout, _ := readReport(t, "-targets", "redisstore="+sock+",redis="+sock, "-messages", "200",
		"-sessions", "200", "-clients", "4", "-progress=false")
	for _, r := range checkResults(t, rep, 2, 200) {
		if r.ServerPID != pid || r.ServerCPUPerMessage <= 0 {
			t.Errorf("%s: server pid %d (want %d), CPU %.1f µs/message", r.Target, r.ServerPID, pid, r.ServerCPUPerMessage)
		}
		if !strings.Contains(r.Settings, "redis_version") {
			t.Errorf("%s: settings %q do not name the server", r.Target, r.Settings)
		}
	}
	if s := rep.Results[0].Settings; !strings.Contains(s, "ModeScript") {
		t.Errorf("redisstore settings %q do not say script mode", s)
	}
	if !strings.Contains(stdout, "redisstore@"+sock) {
		t.Errorf("no redisstore in the output:\n%s", stdout)
	}
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: sock})
	defer rdb.Close()
	if n, err := rdb.DBSize(context.Background()).Result(); err != nil || n != 0 {
		t.Errorf("DBSIZE after -cleanup = %d, %v; want 0", n, err)
	}
}
