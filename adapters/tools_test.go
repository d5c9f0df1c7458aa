package adapters_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// python is the interpreter the pywce adapter is checked with: Debian's,
// whose redis-py comes from the python3-redis package.
const python = "/usr/bin/python3"

// allowMissingTools lets a machine without Python's redis-py or a JDK skip
// the adapter tests instead of failing them. CI installs both.
const allowMissingTools = "SESSIONGRID_ALLOW_MISSING_TOOLS"

// requireTool fails the test (or skips it, with allowMissingTools=1) when
// probe cannot run; install names the Debian package that provides it.
func requireTool(t *testing.T, install string, probe ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, probe[0], probe[1:]...).CombinedOutput()
	if err == nil {
		return
	}
	msg := "`" + strings.Join(probe, " ") + "` failed (" + err.Error() + "): " + strings.TrimSpace(string(out)) +
		"\ninstall it with `apt-get install " + install + "`"
	if os.Getenv(allowMissingTools) == "1" {
		t.Skip(msg + " (skipped: " + allowMissingTools + "=1)")
	}
	t.Fatal(msg + "\nor set " + allowMissingTools + "=1 to skip the adapter tests on this machine")
}

// run runs a command in dir with the extra environment, logs its output and
// fails the test when it exits non-zero.
func run(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("$ %s %s  (in %s, %s)\n%s", name, strings.Join(args, " "), dir, time.Since(start).Round(time.Millisecond), out.String())
	if ctx.Err() != nil {
		t.Fatalf("%s timed out after %s", name, timeout)
	}
	if err != nil {
		t.Fatalf("%s failed: %v (output above)", name, err)
	}
}

// cleanEnv is the test's environment without the variables the adapter
// suites read, so that only the ones run passes reach them.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GRIDNODE_") || strings.HasPrefix(kv, "JAWCE_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PYTHONDONTWRITEBYTECODE=1")
}
