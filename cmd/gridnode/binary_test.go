package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds gridnode into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gridnode")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)

	t.Run("help", func(t *testing.T) {
		out, err := exec.Command(bin, "--help").Output()
		if err != nil {
			t.Fatalf("--help: %v", err)
		}
		for _, want := range []string{"--addr", "GRIDNODE_ADDR", "--http-addr", "--password", "--max-clients",
			"--max-request-bytes", "--max-value-bytes", "--idle-timeout", "--session-idle", "--touch-on-read",
			"--log-level", "--log-format", "--shards", "default 127.0.0.1:6379"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("--help lacks %q", want)
			}
		}
	})

	t.Run("bad config", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			env  string
			want string
		}{
			{[]string{"--shards", "5"}, "", "power of two"},
			{nil, "GRIDNODE_LOG_LEVEL=chatty", "--log-level"},
			{[]string{"--max-clients", "x"}, "", "max-clients"},
		} {
			cmd := exec.Command(bin, tc.args...)
			if tc.env != "" {
				cmd.Env = append(os.Environ(), tc.env)
			}
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitConfig {
				t.Errorf("%v %s: err %v, want exit code 2", tc.args, tc.env, err)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("%v %s: output %q does not mention %q", tc.args, tc.env, out, tc.want)
			}
		}
	})

	t.Run("serve and SIGTERM", func(t *testing.T) {
		// No flags: the addresses come from the environment (port 0), so
		// the test does not depend on 6379 being free.
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "GRIDNODE_ADDR=127.0.0.1:0", "GRIDNODE_HTTP_ADDR=127.0.0.1:0")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var log syncBuffer
		copied := make(chan struct{})
		go func() {
			defer close(copied)
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				log.Write([]byte(sc.Text() + "\n"))
			}
		}()
		exited := make(chan error, 1)
		go func() {
			<-copied // Wait must follow the last read of the pipe
			exited <- cmd.Wait()
		}()
		done := make(chan struct{})
		go func() {
			select {
			case <-copied:
			case <-time.After(time.Minute):
			}
			close(done)
		}()
		defer func() {
			cmd.Process.Kill()
		}()
		resp, hAddr := waitForAddrs(t, log.String, done)
		if got := ping(t, resp); got != "+PONG\r\n" {
			t.Fatalf("PING = %q", got)
		}
		if got := httpStatus(t, "http://"+hAddr+"/readyz"); got != 200 {
			t.Fatalf("/readyz = %d", got)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v; log:\n%s", err, log.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no exit 30s after SIGTERM; log:\n%s", log.String())
		}
		for _, want := range []string{"signal received, shutting down", "gridnode stopped"} {
			if !strings.Contains(log.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, log.String())
			}
		}
	})
}
