package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// cluster is one docker-compose project of the reference cluster.
type cluster struct {
	t       *testing.T
	project string
	file    string
	root    string
}

func repoRoot(t *testing.T) string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(f), "..", "..")
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return strings.TrimSpace(out.String())
}

// needDocker fails the test when Docker or docker-compose is missing (CI
// has both); SESSIONGRID_ALLOW_MISSING_TOOLS=1 turns that into a skip.
func needDocker(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"docker", "docker-compose"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("SESSIONGRID_ALLOW_MISSING_TOOLS") == "1" {
				t.Skipf("%s not installed", tool)
			}
			t.Fatalf("%s is required by the e2e tests: %v", tool, err)
		}
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Fatalf("the Docker daemon is not reachable: %v", err)
	}
}

// startCluster builds the image and starts the reference cluster under a
// project name of its own; Cleanup removes it.
func startCluster(t *testing.T) *cluster {
	needDocker(t)
	root := repoRoot(t)
	const tag = "sessiongrid/gridnode:e2e"
	run(t, root, "./scripts/docker-build.sh", tag)
	c := &cluster{t: t, project: fmt.Sprintf("sge2e%d", time.Now().UnixNano()%1e6),
		file: filepath.Join(root, "docker-compose.cluster.yml"), root: root}
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range []string{"gridnode-1", "gridnode-2", "gridnode-3"} {
				out, _ := exec.Command("docker", "logs", "--tail", "40", c.container(s)).CombinedOutput()
				t.Logf("logs of %s:\n%s", s, out)
			}
		}
		c.compose("down", "-v", "--timeout", "5")
	})
	os.Setenv("GRIDNODE_IMAGE", tag)
	for i := 1; i <= 3; i++ { // random host ports: runs never collide with each other or a user's cluster
		os.Setenv(fmt.Sprintf("GRIDNODE_%d_RESP_PORTS", i), "6379")
		os.Setenv(fmt.Sprintf("GRIDNODE_%d_HTTP_PORTS", i), "9379")
	}
	c.compose("up", "-d", "--no-build")
	return c
}

func (c *cluster) compose(args ...string) string {
	c.t.Helper()
	all := append([]string{"-p", c.project, "-f", c.file}, args...)
	return run(c.t, c.root, "docker-compose", all...)
}

func (c *cluster) container(service string) string {
	return c.project + "_" + service + "_1"
}

func (c *cluster) ip(service string) string {
	return run(c.t, c.root, "docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", c.container(service))
}

// client returns a RESP client of one node.
func (c *cluster) client(service string) *redis.Client {
	r := redis.NewClient(&redis.Options{Addr: c.ip(service) + ":6379", MaxRetries: -1, DialTimeout: time.Second})
	c.t.Cleanup(func() { r.Close() })
	return r
}

// waitReady waits until every given node serves and has a partition table.
func (c *cluster) waitReady(services ...string) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, s := range services {
		r := c.client(s)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			v, err := r.Do(ctx, "GRID.TABLE").Slice()
			cancel()
			if err == nil && len(v) == 2 {
				if e, _ := v[0].(int64); e > 0 {
					break
				}
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("%s never became ready: %v", s, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
