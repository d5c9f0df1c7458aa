package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestHTTPEndpoints(t *testing.T) {
	n := startNode(t, Config{})
	hs := httptest.NewServer(n.srv.Handler())
	defer hs.Close()
	defer http.DefaultClient.CloseIdleConnections()

	ctx := context.Background()
	c := n.client(t, 3)
	c.HSet(ctx, "m:1", "f", "v")
	c.HSet(ctx, "m:2", "f", "v")
	c.HGet(ctx, "m:1", "f")
	c.Get(ctx, "m:1") // WRONGTYPE
	c.Set(ctx, "lock", "t", 0)
	c.Do(ctx, "GLOBAL.SET", "g", "v")
	c.Do(ctx, "NOSUCH")

	if code, body := httpGet(t, hs.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	if code, _ := httpGet(t, hs.URL+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	code, body := httpGet(t, hs.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`gridnode_commands_total{command="hset"} 2`,
		`gridnode_commands_total{command="hget"} 1`,
		`gridnode_command_errors_total{command="get"} 1`,
		`gridnode_command_duration_seconds_count{command="hset"} 2`,
		`gridnode_command_duration_seconds_bucket{command="hget",le="+Inf"} 1`,
		`gridnode_unknown_commands_total 1`,
		`gridnode_connections 1`,
		`gridnode_keys{kind="session"} 2`,
		`gridnode_keys{kind="string"} 1`,
		`gridnode_globals 1`,
		`gridnode_expired_keys_total 0`,
		`gridnode_payload_bytes `,
		`gridnode_net_input_bytes_total `,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Expirations are counted once the store reclaims them.
	c.Expire(ctx, "m:2", time.Second)
	n.clock.Advance(2 * time.Second)
	if _, err := n.store.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, body := httpGet(t, hs.URL+"/metrics"); !strings.Contains(body, "gridnode_expired_keys_total 1") {
		t.Errorf("expired keys not counted")
	}

	if err := n.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _ := httpGet(t, hs.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz after Shutdown = %d, want 503", code)
	}
}
