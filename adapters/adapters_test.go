package adapters_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// suiteTimeout bounds one run of a language's suite (it takes seconds).
const suiteTimeout = 5 * time.Minute

// TestAdapters runs the pywce and jawce suites against one real gridnode,
// in order, and checks that Go, Python and Java read each other's data: Go
// writes its data set first, Python reads it and writes its own, Java reads
// both and writes its own, and Go checks what each wrote.
func TestAdapters(t *testing.T) {
	addr := startGridnode(t, "")
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })

	prefix := "interop:" + randomHex(t) + ":"
	writeGoInterop(t, ctx, rdb, prefix)
	env := []string{"GRIDNODE_ADDR=" + addr, "GRIDNODE_INTEROP_PREFIX=" + prefix}

	pyWrote := false // t.Run returns when the subtest is done: no race
	t.Run("pywce", func(t *testing.T) {
		requirePython(t)
		runPywce(t, env)
		checkInterop(t, ctx, rdb, prefix, "py")
		pyWrote = !t.Failed()
	})
	read := []string{"go"}
	if pyWrote {
		read = append(read, "py") // Java checks Python's data too
	}
	t.Run("jawce", func(t *testing.T) {
		requireJava(t)
		runJawce(t, append(env, "GRIDNODE_INTEROP_READ="+strings.Join(read, ",")))
		checkInterop(t, ctx, rdb, prefix, "java")
	})
}

// TestAdaptersWithPassword runs the suites' auth and props tests against a
// gridnode that requires a password.
func TestAdaptersWithPassword(t *testing.T) {
	const password = "s3cret pass"
	addr := startGridnode(t, password)
	env := []string{"GRIDNODE_ADDR=" + addr, "GRIDNODE_PASSWORD=" + password}
	t.Run("pywce", func(t *testing.T) {
		requirePython(t)
		run(t, suiteTimeout, "pywce", env, python, "-m", "unittest", "-v",
			"test_gridnode_session.TestConstruction", "test_gridnode_session.TestProps")
	})
	t.Run("jawce", func(t *testing.T) {
		requireJava(t)
		runJawce(t, append(env, "JAWCE_TEST_RUN=grid/auth,grid/props,grid/session"))
	})
}

func requirePython(t *testing.T) {
	requireTool(t, "python3 python3-redis", python, "-c", "import redis")
}

func requireJava(t *testing.T) {
	requireTool(t, "default-jdk-headless", "javac", "-version")
	requireTool(t, "default-jdk-headless", "java", "-version")
}

func runPywce(t *testing.T, env []string) {
	run(t, suiteTimeout, "pywce", env, python, "-m", "unittest", "-v", "test_gridnode_session")
}

// runJawce compiles the adapter and its test runner into a temporary
// directory and runs it.
func runJawce(t *testing.T, env []string) {
	var sources []string
	err := filepath.WalkDir(filepath.Join("jawce", "src"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".java") {
			sources = append(sources, path)
		}
		return err
	})
	if err != nil || len(sources) == 0 {
		t.Fatalf("jawce sources: %d files, %v", len(sources), err)
	}
	classes := t.TempDir()
	args := append([]string{"-Xlint:all", "-Werror", "--release", "17", "-encoding", "UTF-8", "-d", classes}, sources...)
	run(t, suiteTimeout, ".", nil, "javac", args...)
	run(t, suiteTimeout, ".", env, "java", "-cp", classes, "com.github.sessiongrid.jawce.GridSessionManagerTest")
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
