package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/client"
	"github.com/sessiongrid/sessiongrid/internal/testcert"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/transport"
)

// The project's remote client over a real gridnode's TLS port: with
// --tls-auth-clients yes it needs a certificate of the CA (refused without
// one, and with one of another CA); with optional and no it connects
// without one.
func TestRunTLSRemoteClient(t *testing.T) {
	dir := t.TempDir()
	ca, other := testcert.NewCA(t, "ca"), testcert.NewCA(t, "other-ca")
	_, flags := tlsPort(t, ca, dir)
	bot := ca.Issue(t, "bot")
	ctx := context.Background()

	remote := func(addr string, cert *testcert.Pair) (*client.Remote, error) {
		tc := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}
		if cert != nil {
			// Sent whatever CAs the server names (Go's client would send no
			// certificate of a CA the server does not name).
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert.TLS, nil }
		}
		r, err := client.NewRemote(client.RemoteConfig{Addr: addr, TLSConfig: tc, MaxRetries: -1,
			DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { r.Close(ctx) })
		return r, nil
	}
	roundTrip := func(r *client.Remote) error {
		if _, err := r.Save(ctx, "u1", session.Field{Key: "stage", Value: []byte(`"MENU"`)}); err != nil {
			return err
		}
		v, err := r.Get(ctx, "u1", "stage")
		if err == nil && string(v) != `"MENU"` {
			err = fmt.Errorf("read back %q", v)
		}
		return err
	}
	for _, tc := range []struct {
		auth                   string
		withoutCert, otherCert bool // accepted?
	}{
		{"yes", false, false},
		{"optional", true, false},
		{"no", true, true},
	} {
		t.Run("tls-auth-clients="+tc.auth, func(t *testing.T) {
			n := startNode(t, append(flags, "--tls-auth-clients", tc.auth)...)
			r, err := remote(n.tls, &bot)
			if err != nil {
				t.Fatal(err)
			}
			if err := roundTrip(r); err != nil {
				t.Fatalf("remote client with a certificate of the CA: %v", err)
			}
			intruder := other.Issue(t, "intruder")
			for _, c := range []struct {
				name string
				cert *testcert.Pair
				want bool
			}{{"without a certificate", nil, tc.withoutCert}, {"with a certificate of another CA", &intruder, tc.otherCert}} {
				r, err := remote(n.tls, c.cert)
				if err == nil {
					err = roundTrip(r)
				}
				if c.want && err != nil {
					t.Errorf("%s: refused: %v", c.name, err)
				}
				if !c.want && err == nil {
					t.Errorf("%s: accepted", c.name)
				}
			}
			// A client that does not speak TLS to the TLS port gets nowhere.
			plain, err := client.NewRemote(client.RemoteConfig{Addr: n.tls, MaxRetries: -1, DialTimeout: 5 * time.Second,
				ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer plain.Close(ctx)
			if _, err := plain.Get(ctx, "u1", "stage"); err == nil {
				t.Error("a plain-text client was served on the TLS port")
			}
		})
	}
}

// A cluster-mode gridnode advertises its TLS port: GRID.TABLE TLS (and
// GRID.TABLE asked over TLS) names it, GRID.TABLE over plain text names the
// plain port, and the smart client with a TLSConfig routes to it.
func TestRunClusterAdvertisesTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "ca")
	_, flags := tlsPort(t, ca, dir)
	n := startNode(t, append(flags, "--node-name", "n1", "--bootstrap-expect", "1", "--gossip-addr", "127.0.0.1:0",
		"--transport-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--advertise", "127.0.0.1", "--leave-timeout", "2s",
		"--http-addr", "127.0.0.1:0")...)
	ctx := context.Background()
	bot := ca.Issue(t, "bot")
	tc := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", Certificates: []tls.Certificate{bot.TLS}}
	plain := redis.NewClient(&redis.Options{Addr: n.resp, MaxRetries: -1})
	defer plain.Close()
	overTLS := redis.NewClient(&redis.Options{Addr: n.tls, MaxRetries: -1, TLSConfig: tc})
	defer overTLS.Close()

	table := func(c *redis.Client, args ...any) []any {
		t.Helper()
		v, err := c.Do(ctx, append([]any{"GRID.TABLE"}, args...)...).Slice()
		if err != nil || len(v) != 2 {
			t.Fatalf("GRID.TABLE %v: %v, %v", args, v, err)
		}
		return v[1].([]any)
	}
	n.waitFor("a table", func() bool {
		owners := table(plain)
		return len(owners) > 0 && owners[0] == n.resp
	})
	for _, c := range []struct {
		name   string
		client *redis.Client
		args   []any
		want   string
	}{
		{"plain connection", plain, nil, n.resp},
		{"plain connection, TLS", plain, []any{"TLS"}, n.tls},
		{"TLS connection", overTLS, nil, n.tls},
		{"TLS connection, PLAIN", overTLS, []any{"plain"}, n.resp},
	} {
		for p, o := range table(c.client, c.args...) {
			if o != c.want {
				t.Fatalf("%s: partition %d owner %v, want %s", c.name, p, o, c.want)
			}
		}
	}
	if err := plain.Do(ctx, "GRID.TABLE", "QUIC").Err(); err == nil || !strings.Contains(err.Error(), "syntax") {
		t.Fatalf("GRID.TABLE QUIC: %v", err)
	}
	if err := plain.Do(ctx, "GRID.TABLE", "TLS", "x").Err(); err == nil || !strings.Contains(err.Error(), "arguments") {
		t.Fatalf("GRID.TABLE TLS x: %v", err)
	}
	var jt struct {
		Owners    []string `json:"owners"`
		TLSOwners []string `json:"tls_owners"`
	}
	resp, err := http.Get("http://" + n.http + "/cluster/table")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&jt)
	resp.Body.Close()
	if err != nil || len(jt.TLSOwners) != len(jt.Owners) || len(jt.Owners) == 0 || jt.TLSOwners[0] != n.tls || jt.Owners[0] != n.resp {
		t.Fatalf("/cluster/table: %+v, %v", jt, err)
	}
	members, err := plain.Do(ctx, "GRID.MEMBERS").StringSlice()
	if err != nil || len(members) != 1 || !strings.Contains(members[0], "client_tls="+n.tls) {
		t.Fatalf("GRID.MEMBERS = %q, %v", members, err)
	}

	s, err := client.NewSmart(ctx, client.SmartConfig{RemoteConfig: client.RemoteConfig{Addr: n.tls, TLSConfig: tc, MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	m := session.NewManager(s, session.Config{})
	if err := m.Save(ctx, "263771234567", "stage", "MENU"); err != nil {
		t.Fatal(err)
	}
	if v, err := session.Get[string](ctx, m, "263771234567", "stage"); err != nil || v != "MENU" {
		t.Fatalf("smart client over TLS: %q, %v", v, err)
	}
	// The smart client's connections went to the TLS port only: the one
	// client on the plain port is this test's.
	info, err := plain.Do(ctx, "CLIENT", "LIST").Text()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(info, "laddr="+n.resp); got != 1 || !regexp.MustCompile(`laddr=`+regexp.QuoteMeta(n.tls)+` [^\n]*cmd=hget`).MatchString(info) {
		t.Fatalf("CLIENT LIST: want one client on the plain port (this one) and the smart client's HGET on TLS:\n%s", info)
	}
}

// Member TLS reloaded on SIGHUP: both members of a grid get certificates
// with new keys from a new CA (the CA files now hold the old CA and the new
// one), SIGHUP; a new connection to a member port is served the new
// certificate and a peer with a certificate of the new CA — refused before
// — is accepted, and the grid keeps serving through the reload.
func TestRunClusterTLSReload(t *testing.T) {
	dir := t.TempDir()
	ca1, ca2 := testcert.NewCA(t, "cluster-ca"), testcert.NewCA(t, "cluster-ca-next")
	var nodes []*testNode
	files := map[string][3]string{}
	for i, name := range []string{"n1", "n2"} {
		cert, key := ca1.Issue(t, name).WriteFiles(t, dir, name)
		caFile := ca1.WriteFile(t, dir, name+"-ca")
		files[name] = [3]string{cert, key, caFile}
		args := []string{"--node-name", name, "--gossip-addr", "127.0.0.1:0", "--transport-addr", "127.0.0.1:0",
			"--raft-addr", "127.0.0.1:0", "--advertise", "127.0.0.1", "--leave-timeout", "5s",
			"--cluster-tls-cert-file", cert, "--cluster-tls-key-file", key, "--cluster-tls-ca-cert-file", caFile}
		if i == 0 {
			args = append(args, "--bootstrap-expect", "1")
		} else {
			args = append(args, "--join", nodes[0].gossip)
		}
		nodes = append(nodes, startNode(t, args...))
	}
	ctx := context.Background()
	c1 := redis.NewClient(&redis.Options{Addr: nodes[0].resp, MaxRetries: -1})
	defer c1.Close()
	c2 := redis.NewClient(&redis.Options{Addr: nodes[1].resp, MaxRetries: -1})
	defer c2.Close()
	nodes[0].waitFor("a safe grid of two", func() bool {
		members, _ := c1.Do(ctx, "GRID.MEMBERS").StringSlice()
		return len(members) == 2 && c1.Do(ctx, "GRID.SAFE").Err() == nil
	})
	write := func(round int) {
		t.Helper()
		for i := range 40 {
			if err := c1.HSet(ctx, fmt.Sprint("user-", i), "round", round).Err(); err != nil {
				t.Fatalf("HSET through n1 (round %d): %v", round, err)
			}
		}
		for i := range 40 {
			if v, err := c2.HGet(ctx, fmt.Sprint("user-", i), "round").Int(); err != nil || v != round {
				t.Fatalf("HGET through n2 (round %d): %d, %v", round, v, err)
			}
		}
	}
	write(1)

	probe := func() (*tls.Conn, error) {
		return tls.DialWithDialer(&netDialer, "tcp", nodes[0].raft, transport.NewMemberTLS(ca2.Issue(t, "probe").TLS, ca2.Pool()))
	}
	if c, err := probe(); err == nil {
		c.Close()
		t.Fatal("a peer of the new CA was accepted before the reload")
	}

	rotated := map[string]testcert.Pair{}
	bundle := append(append([]byte{}, ca1.PEM...), ca2.PEM...)
	for name, f := range files {
		p := ca2.Issue(t, name)
		rotated[name] = p
		p.WriteFiles(t, dir, name)
		if err := os.WriteFile(f[2], bundle, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		n.waitFor("the member TLS reload", func() bool { return strings.Contains(n.log.String(), "member TLS certificates reloaded") })
	}
	tc, err := probe()
	if err != nil {
		t.Fatalf("a peer of the new CA after the reload: %v", err)
	}
	peer := tc.ConnectionState().PeerCertificates
	tc.Close()
	if len(peer) == 0 || !bytes.Equal(peer[0].Raw, rotated["n1"].TLS.Certificate[0]) {
		t.Fatal("a new connection to n1's Raft port was not served its rotated certificate")
	}
	write(2)
	if err := c2.Do(ctx, "GLOBAL.SET", "after-reload", "1").Err(); err != nil {
		t.Fatalf("GLOBAL.SET through n2 after the reload: %v", err)
	}
	// n2 leaves first (its drain needs n1); then n1.
	nodes[1].stop()
}

var netDialer = net.Dialer{Timeout: 5 * time.Second}

// --http-tls yes: /metrics and the other HTTP endpoints over HTTPS with the
// client TLS certificate; plain HTTP is answered 400 and serves nothing;
// `gridnode health --http-tls yes` checks such a node.
func TestRunHTTPTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "ca")
	_, flags := tlsPort(t, ca, dir)
	n := startNode(t, append(flags, "--http-addr", "127.0.0.1:0", "--http-tls", "yes")...)
	if n.http == "" {
		t.Fatalf("no HTTP address in the log:\n%s", n.log.String())
	}
	https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}}}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/cluster"} {
		resp, err := https.Get("https://" + n.http + path)
		if err != nil {
			t.Fatalf("GET https %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusOK
		if path == "/cluster" {
			want = http.StatusNotFound // standalone: not in a grid
		}
		if resp.StatusCode != want || resp.TLS == nil {
			t.Fatalf("GET https %s = %d (TLS %v): %s", path, resp.StatusCode, resp.TLS != nil, body)
		}
		if path == "/metrics" && !strings.Contains(string(body), "gridnode_") {
			t.Fatalf("/metrics over HTTPS lacks gridnode's metrics:\n%.300s", body)
		}
	}
	if got := httpStatus(t, "http://"+n.http+"/metrics"); got != http.StatusBadRequest {
		t.Fatalf("plain HTTP to the HTTPS port: %d, want 400", got)
	}
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"health", "--http-addr", n.http, "--http-tls", "yes"}, env(nil), &out, &errOut); code != exitOK {
		t.Fatalf("gridnode health --http-tls yes: exit %d: %s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"health", "--http-addr", n.http}, env(nil), &out, &errOut); code == exitOK {
		t.Fatal("gridnode health over plain HTTP passed against an HTTPS port")
	}
	// --http-tls yes without a TLS port is a configuration error.
	var stdout, stderr syncBuffer
	if code := run(context.Background(), []string{"--http-tls", "yes"}, env(nil), &stdout, &stderr); code != exitConfig ||
		!strings.Contains(stderr.String(), "--http-tls") {
		t.Fatalf("--http-tls yes without a TLS port: exit %d: %s", code, stderr.String())
	}
}
