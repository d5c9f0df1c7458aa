package redis_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// redisServer is a redis-server process owned by one test, listening only
// on a unix socket in its own directory (no TCP port, so no port races).
type redisServer struct {
	sock string
	cmd  *exec.Cmd
	dir  string
}

// startRedis starts a redis-server for t and stops it when t ends. A
// missing redis-server fails the test, unless SESSIONGRID_ALLOW_MISSING_TOOLS=1.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("SESSIONGRID_ALLOW_MISSING_TOOLS") == "1" {
			t.Skipf("redis-server not installed and SESSIONGRID_ALLOW_MISSING_TOOLS=1: %v", err)
		}
		t.Fatalf("redis-server is required (apt-get install redis-server); "+
			"set SESSIONGRID_ALLOW_MISSING_TOOLS=1 to skip: %v", err)
	}
	// os.MkdirTemp, not t.TempDir: a unix socket path must stay under 108
	// bytes, and t.TempDir embeds the test's name.
	dir, err := os.MkdirTemp("", "sgredis")
	if err != nil {
		t.Fatal(err)
	}
	srv := &redisServer{sock: filepath.Join(dir, "redis.sock"), dir: dir}
	logf, err := os.Create(filepath.Join(dir, "redis.log"))
	if err != nil {
		t.Fatal(err)
	}
	srv.cmd = exec.Command(bin,
		"--port", "0",
		"--unixsocket", srv.sock,
		"--unixsocketperm", "700",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--daemonize", "no",
	)
	srv.cmd.Stdout, srv.cmd.Stderr = logf, logf
	if err := srv.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		srv.stop()
		_ = logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "redis.log")); err == nil {
				t.Logf("redis-server log:\n%s", b)
			}
		}
		_ = os.RemoveAll(dir)
	})
	// Poll until the socket accepts connections.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", srv.sock)
		if err == nil {
			_ = c.Close()
			return srv
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Fatalf("redis-server did not accept connections on %s: %v\n%s", srv.sock, err, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop kills the server and waits for it; it is idempotent.
func (s *redisServer) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// rawClient is a plain go-redis client of srv, for inspecting what the store
// wrote; it is closed when t ends.
func rawClient(t testing.TB, srv *redisServer) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{
		Network:                  "unix",
		Addr:                     srv.sock,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		t.Fatalf("PING: %v", err)
	}
	return c
}
