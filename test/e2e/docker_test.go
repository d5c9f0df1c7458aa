package e2e

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The ports a gridnode listens on inside its container (Dockerfile).
const (
	respPort = "6379"
	httpPort = "9379"
)

// cluster is one docker-compose project of the reference cluster, started
// under a project name of its own (never a user's containers), removed with
// its networks and volumes when the test ends, failed or not.
type cluster struct {
	t        *testing.T
	project  string
	files    []string
	root     string
	services []string // gridnode-1 ... gridnode-N
	password string   // the members' RESP and HTTP password (from the secrets dir)

	mu        sync.Mutex        // guards ips, ids, safeEpoch and safeSince
	ips       map[string]string // service -> container IP on the project network
	ids       map[string]string // service -> container id
	safeEpoch uint64            // the table epoch the fallback safe check last saw
	safeSince time.Time         // since when it has seen it
}

func repoRoot(t *testing.T) string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(f), "..", "..")
}

// command runs name with args in dir and returns its combined output.
func command(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return strings.TrimSpace(out.String()), err
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	out, err := command(context.Background(), dir, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
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
			t.Fatalf("%s is required by the e2e tests (scripts/test.sh installs docker-compose; the Docker daemon must run): %v", tool, err)
		}
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Fatalf("the Docker daemon is not reachable (the e2e tests need it): %v\n%s", err, out)
	}
}

const imageTag = "sessiongrid/gridnode:e2e"

var (
	buildOnce sync.Once
	buildErr  error
)

// buildImage builds the image once per test binary (scripts/docker-build.sh).
func buildImage(t *testing.T, root string) {
	t.Helper()
	buildOnce.Do(func() {
		_, buildErr = command(context.Background(), root, "./scripts/docker-build.sh", imageTag)
	})
	if buildErr != nil {
		t.Fatalf("building the image: %v", buildErr)
	}
}

// startCluster builds the image and starts the reference cluster with size
// members: 3 (docker-compose.cluster.yml) or 5 (with the override file
// docker-compose.cluster5.yml). It returns once every member is ready.
func startCluster(t *testing.T, size int) *cluster {
	needDocker(t)
	root := repoRoot(t)
	buildImage(t, root)
	files := []string{filepath.Join(root, "docker-compose.cluster.yml")}
	if size == 5 {
		files = append(files, filepath.Join(root, "docker-compose.cluster5.yml"))
	} else if size != 3 {
		t.Fatalf("startCluster: size %d (3 or 5)", size)
	}
	c := &cluster{t: t, project: fmt.Sprintf("sge2e%d", rand.IntN(1e8)), files: files, root: root,
		ips: map[string]string{}, ids: map[string]string{}}
	for i := 1; i <= size; i++ {
		c.services = append(c.services, fmt.Sprintf("gridnode-%d", i))
	}
	// The compose file reads the password and the cluster secret from
	// files (Compose secrets); each run makes its own, removed after the
	// cluster (t.Cleanup runs last-registered first).
	c.password = writeSecrets(t)
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range c.services {
				out, _ := exec.Command("docker", "logs", "--tail", "60", c.container(s)).CombinedOutput()
				t.Logf("logs of %s:\n%s", s, out)
			}
		}
		// Unpause first: a paused container cannot be removed.
		for _, s := range c.services {
			exec.Command("docker", "unpause", c.container(s)).Run()
		}
		c.composeErr(context.Background(), "down", "-v", "--remove-orphans", "--timeout", "5")
	})
	t.Setenv("GRIDNODE_IMAGE", imageTag)
	for i := 1; i <= size; i++ { // random host ports: runs never collide with each other or a user's cluster
		t.Setenv(fmt.Sprintf("GRIDNODE_%d_RESP_PORTS", i), respPort)
		t.Setenv(fmt.Sprintf("GRIDNODE_%d_HTTP_PORTS", i), httpPort)
	}
	c.compose("up", "-d", "--no-build")
	c.waitReady(c.services...)
	return c
}

// writeSecrets writes a random password and cluster secret where the
// compose file reads them (GRIDNODE_SECRETS_DIR, as scripts/cluster-secrets.sh
// does) and returns the password.
func writeSecrets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var pw string
	for _, name := range []string{"password", "cluster-secret"} {
		b := make([]byte, 24)
		crand.Read(b)
		v := hex.EncodeToString(b)
		// 0644: the containers' user (uid 65532) reads the bind-mounted file.
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if name == "password" {
			pw = v
		}
	}
	t.Setenv("GRIDNODE_SECRETS_DIR", dir)
	return pw
}

func (c *cluster) composeArgs(args []string) []string {
	all := []string{"-p", c.project}
	for _, f := range c.files {
		all = append(all, "-f", f)
	}
	return append(all, args...)
}

func (c *cluster) compose(args ...string) string {
	c.t.Helper()
	return run(c.t, c.root, "docker-compose", c.composeArgs(args)...)
}

func (c *cluster) composeErr(ctx context.Context, args ...string) (string, error) {
	return command(ctx, c.root, "docker-compose", c.composeArgs(args)...)
}

// container returns the container id of a service (Compose v1 and v2 name
// containers differently, so ask Compose).
func (c *cluster) container(service string) string {
	c.mu.Lock()
	id := c.ids[service]
	c.mu.Unlock()
	if id != "" {
		return id
	}
	id, err := c.composeErr(context.Background(), "ps", "-q", service)
	if err != nil || id == "" {
		return c.project + "_" + service + "_1" // best effort, for logs
	}
	c.mu.Lock()
	c.ids[service] = id
	c.mu.Unlock()
	return id
}

// docker runs a docker command and returns its output.
func (c *cluster) docker(ctx context.Context, args ...string) (string, error) {
	return command(ctx, c.root, "docker", args...)
}

// refreshIP reads the container IP of service again (after a start or a
// reconnect) and returns it.
func (c *cluster) refreshIP(service string) (string, error) {
	ip, err := c.docker(context.Background(), "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", c.container(service))
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.ips[service] = ip
	c.mu.Unlock()
	return ip, nil
}

// ip returns the last known container IP of service.
func (c *cluster) ip(service string) string {
	c.mu.Lock()
	ip := c.ips[service]
	c.mu.Unlock()
	if ip == "" {
		ip, _ = c.refreshIP(service)
	}
	return ip
}

// clientOptions are the RESP options of every client of the tests: no
// retries (a retried write would hide an indeterminate outcome), short
// timeouts, and a dialer that follows the service's current IP.
func (c *cluster) clientOptions(service string) *redis.Options {
	return &redis.Options{
		Addr:                  service,
		MaxRetries:            -1,
		DialTimeout:           500 * time.Millisecond,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		ContextTimeoutEnabled: true,
		PoolSize:              1,
		DisableIdentity:       true,
		Password:              c.password,
		Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort(c.ip(service), respPort))
		},
	}
}

// client returns a RESP client of one member, closed when the test ends.
func (c *cluster) client(service string) *redis.Client {
	r := redis.NewClient(c.clientOptions(service))
	c.t.Cleanup(func() { r.Close() })
	return r
}

func init() { redis.SetLogger(quiet{}) } // dial failures are expected here, and recorded

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// httpGet fetches path from service's HTTP port.
func (c *cluster) httpGet(ctx context.Context, service, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(c.ip(service), httpPort)+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.password) // /cluster* need it; the probes ignore it
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// status is GET /cluster (server.ClusterStatus, the fields the tests use).
type status struct {
	Self       string `json:"self"`
	Epoch      uint64 `json:"epoch"`
	Partitions int    `json:"partitions"`
	Leader     string `json:"leader"`
	Members    []struct {
		Name      string `json:"name"`
		ID        string `json:"id"`
		State     string `json:"state"`
		Primaries int    `json:"primaries"`
		IsLeader  bool   `json:"leader"`
	} `json:"members"`
}

func (c *cluster) status(ctx context.Context, service string) (status, error) {
	var st status
	code, body, err := c.httpGet(ctx, service, "/cluster")
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("GET /cluster on %s: %d %s", service, code, body)
	}
	return st, json.Unmarshal(body, &st)
}

// ready reports whether service answers /readyz and has a partition table.
func (c *cluster) ready(ctx context.Context, service string) error {
	code, body, err := c.httpGet(ctx, service, "/readyz")
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("/readyz: %d %s", code, bytes.TrimSpace(body))
	}
	r := redis.NewClient(c.clientOptions(service))
	defer r.Close()
	v, err := r.Do(ctx, "GRID.TABLE").Slice()
	if err != nil {
		return fmt.Errorf("GRID.TABLE: %w", err)
	}
	if len(v) != 2 {
		return fmt.Errorf("GRID.TABLE: %d elements", len(v))
	}
	if e, _ := v[0].(int64); e <= 0 {
		return errors.New("GRID.TABLE: no table yet")
	}
	return nil
}

// waitFor polls cond every 100 ms (each poll may take up to 5 s: a member
// busy under the workload answers slowly) until it returns nil or timeout
// passes, and returns cond's last error then.
func waitFor(timeout time.Duration, cond func(ctx context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitReady waits until every given member serves and has a partition table.
func (c *cluster) waitReady(services ...string) {
	c.t.Helper()
	for _, s := range services {
		if err := waitFor(60*time.Second, func(ctx context.Context) error { return c.ready(ctx, s) }); err != nil {
			c.t.Fatalf("%s never became ready: %v", s, err)
		}
	}
}

// safe reports whether the cluster of the given live members is safe: every
// partition has its full backup count and no migration is in flight. It asks
// GRID.SAFE, then GET /cluster/safe; on a gridnode that has neither yet it
// falls back to what /cluster shows: every live member ready and seeing
// exactly the live members alive, one table epoch everywhere, and every
// partition owned by a live member.
func (c *cluster) safe(ctx context.Context, live []string) error {
	fallback := false
	for _, s := range live {
		r := redis.NewClient(c.clientOptions(s))
		v, err := r.Do(ctx, "GRID.SAFE").Result()
		r.Close()
		switch {
		case err != nil && strings.Contains(strings.ToLower(err.Error()), "unknown command"):
			code, body, herr := c.httpGet(ctx, s, "/cluster/safe")
			switch {
			case herr != nil:
				return fmt.Errorf("%s: GET /cluster/safe: %w", s, herr)
			case code == http.StatusNotFound:
				fallback = true
			case code != http.StatusOK:
				return fmt.Errorf("%s: GET /cluster/safe: %d %s", s, code, bytes.TrimSpace(body))
			}
		case err != nil:
			return fmt.Errorf("%s: GRID.SAFE: %w", s, err)
		case !truthy(v):
			return fmt.Errorf("%s: GRID.SAFE = %v", s, v)
		}
	}
	if !fallback {
		return nil
	}
	isLive := map[string]bool{}
	for _, s := range live {
		isLive[s] = true
	}
	var epoch uint64
	for i, s := range live {
		if err := c.ready(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		st, err := c.status(ctx, s)
		if err != nil {
			return err
		}
		if i == 0 {
			epoch = st.Epoch
		} else if st.Epoch != epoch {
			return fmt.Errorf("table epochs differ: %s has %d, %s has %d", live[0], epoch, s, st.Epoch)
		}
		alive, owned := 0, 0
		for _, m := range st.Members {
			if m.State == "alive" {
				if !isLive[m.Name] {
					return fmt.Errorf("%s sees %s alive", s, m.Name)
				}
				alive++
				owned += m.Primaries
			} else if m.Primaries > 0 {
				return fmt.Errorf("%s: %s is %s and owns %d partitions", s, m.Name, m.State, m.Primaries)
			}
		}
		if alive != len(live) {
			return fmt.Errorf("%s sees %d members alive, want %d", s, alive, len(live))
		}
		if owned != st.Partitions {
			return fmt.Errorf("%s: live members own %d of %d partitions", s, owned, st.Partitions)
		}
		for _, m := range st.Members {
			if m.State == "alive" && m.Primaries == 0 {
				return fmt.Errorf("%s: %s owns no partition yet (rebalance in flight)", s, m.Name)
			}
		}
	}
	// No migration in flight: the table has not changed for a while.
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.safeEpoch {
		c.safeEpoch, c.safeSince = epoch, time.Now()
	}
	if quiet := time.Since(c.safeSince); quiet < stableTable {
		return fmt.Errorf("table epoch %d in force for only %s", epoch, quiet.Round(time.Millisecond))
	}
	return nil
}

// stableTable is how long the fallback safe check wants the table epoch
// unchanged before it calls the cluster safe.
const stableTable = 2 * time.Second

func truthy(v any) bool {
	switch v := v.(type) {
	case int64:
		return v == 1
	case bool:
		return v
	case string:
		for _, yes := range []string{"1", "ok", "true", "yes", "safe"} {
			if strings.EqualFold(v, yes) {
				return true
			}
		}
	}
	return false
}

// waitSafe waits until the live members report cluster-safe.
func (c *cluster) waitSafe(live []string, timeout time.Duration) error {
	return waitFor(timeout, func(ctx context.Context) error { return c.safe(ctx, live) })
}

// except returns the services other than the given ones.
func (c *cluster) except(out ...string) []string {
	var live []string
outer:
	for _, s := range c.services {
		for _, o := range out {
			if s == o {
				continue outer
			}
		}
		live = append(live, s)
	}
	return live
}

// leader returns the Raft leader as the given members see it.
func (c *cluster) leader(ctx context.Context, from []string) (string, error) {
	for _, s := range from {
		st, err := c.status(ctx, s)
		if err != nil {
			continue
		}
		for _, m := range st.Members {
			if m.IsLeader && m.State == "alive" {
				return m.Name, nil
			}
		}
	}
	return "", errors.New("no member names a live leader")
}

// waitGone waits until every observer sees victim as not alive and owning
// no partition (failure detection, then the table changed around it).
func (c *cluster) waitGone(observers []string, victim string, timeout time.Duration) error {
	return waitFor(timeout, func(ctx context.Context) error {
		for _, o := range observers {
			st, err := c.status(ctx, o)
			if err != nil {
				return err
			}
			for _, m := range st.Members {
				if m.Name != victim {
					continue
				}
				if m.State == "alive" {
					return fmt.Errorf("%s still sees %s alive", o, victim)
				}
				if m.Primaries > 0 {
					return fmt.Errorf("%s: %s (%s) still owns %d partitions", o, victim, m.State, m.Primaries)
				}
			}
		}
		return nil
	})
}
