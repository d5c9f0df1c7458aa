package main

import (
	"context"
	"crypto/tls"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/internal/testcert"
)

// A gridnode with a TLS port serves go-redis and redis-cli --tls with a
// trusted client certificate, refuses one of another CA, and takes new
// certificates on SIGHUP without dropping its connections.
func TestRunTLS(t *testing.T) {
	dir := t.TempDir()
	ca, other := testcert.NewCA(t, "ca"), testcert.NewCA(t, "other-ca")
	caFile, flags := tlsPort(t, ca, dir)
	client := ca.Issue(t, "bot")
	clientCert, clientKey := client.WriteFiles(t, dir, "client")

	n := startNode(t, append(flags, "--password", "pw")...)
	addr, ctx := n.tls, context.Background()
	newClient := func(cert tls.Certificate) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, Password: "pw", MaxRetries: -1, DialTimeout: 5 * time.Second,
			TLSConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{cert}, ServerName: "localhost"}})
		t.Cleanup(func() { c.Close() })
		return c
	}
	good := newClient(client.TLS)
	if err := good.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("go-redis over TLS: %v", err)
	}
	if err := newClient(other.Issue(t, "intruder").TLS).Ping(ctx).Err(); err == nil {
		t.Fatal("a client certificate of another CA was accepted")
	}
	if cli, err := exec.LookPath("redis-cli"); err != nil {
		t.Log("redis-cli not installed: its test is skipped")
	} else {
		host, port, _ := strings.Cut(addr, ":")
		out, err := exec.Command(cli, "--tls", "--cacert", caFile, "--cert", clientCert, "--key", clientKey,
			"-h", host, "-p", port, "--user", "default", "--pass", "pw", "--no-auth-warning", "GET", "k").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "v" {
			t.Fatalf("redis-cli --tls GET k = %q, %v", out, err)
		}
	}

	// New certificates from another CA, then SIGHUP: new connections see
	// them, the open one stays.
	ca2 := testcert.NewCA(t, "ca2")
	ca2.Issue(t, "gridnode").WriteFiles(t, dir, "server")
	if err := os.WriteFile(caFile, ca2.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	n.waitFor("the reload", func() bool { return strings.Contains(n.log.String(), "TLS certificates reloaded") })
	if err := good.Get(ctx, "k").Err(); err != nil {
		t.Fatalf("the connection opened before the reload: %v", err)
	}
	c2 := redis.NewClient(&redis.Options{Addr: addr, Password: "pw", MaxRetries: -1, DialTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{RootCAs: ca2.Pool(), Certificates: []tls.Certificate{ca2.Issue(t, "bot2").TLS}, ServerName: "localhost"}})
	defer c2.Close()
	if v, err := c2.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("a client of the new CA after the reload: %q, %v", v, err)
	}
	n.stop()
}

func TestTLSOptionsValidate(t *testing.T) {
	cases := map[string]tlsOptions{
		"no cert":           {port: 6380},
		"auth without CA":   {port: 6380, certFile: "c", keyFile: "k", authClients: "yes", protocols: "TLSv1.3"},
		"bad auth value":    {port: 6380, certFile: "c", keyFile: "k", authClients: "maybe", protocols: "TLSv1.3"},
		"bad protocol":      {port: 6380, certFile: "c", keyFile: "k", authClients: "no", protocols: "SSLv3"},
		"port out of range": {port: 70000, certFile: "c", keyFile: "k", authClients: "no", protocols: "TLSv1.3"},
		"bad http-tls":      {httpTLS: "maybe"},
		"http-tls, no port": {httpTLS: "yes"},
	}
	for name, o := range cases {
		if err := o.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := tlsOptions{port: 6380, certFile: "c", keyFile: "k", authClients: "no", protocols: "TLSv1.2 TLSv1.3"}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
}
