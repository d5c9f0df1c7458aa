package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/internal/testcert"
	"github.com/sessiongrid/sessiongrid/transport"
)

// A cluster-mode gridnode with member TLS serves globals (through its Raft
// group), does not warn that its member ports are open, and its Raft port
// answers a plain-text handshake with nothing of the members' protocol.
func TestRunClusterTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "cluster-ca")
	certFile, keyFile := ca.Issue(t, "n1").WriteFiles(t, dir, "n1")
	caFile := ca.WriteFile(t, dir, "ca")
	n := startNode(t, "--node-name", "n1",
		"--bootstrap-expect", "1", "--gossip-addr", "127.0.0.1:0", "--transport-addr", "127.0.0.1:0",
		"--raft-addr", "127.0.0.1:0", "--advertise", "127.0.0.1",
		"--cluster-tls-cert-file", certFile, "--cluster-tls-key-file", keyFile, "--cluster-tls-ca-cert-file", caFile,
		"--leave-timeout", "2s")
	c := redis.NewClient(&redis.Options{Addr: n.resp, MaxRetries: -1})
	defer c.Close()
	ctx := context.Background()
	n.waitFor("GLOBAL.SET to succeed", func() bool { return c.Do(ctx, "GLOBAL.SET", "g", "v").Err() == nil })
	if strings.Contains(n.log.String(), "accept anyone") {
		t.Fatalf("warned about open member ports with member TLS:\n%s", n.log.String())
	}
	// A peer speaking the members' handshake without TLS gets nothing of it.
	nc, err := net.Dial("tcp", n.raft)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	hello := append(append([]byte{}, transport.Magic[:]...), transport.Version, byte(transport.ChannelRaft))
	nc.Write(append(hello, make([]byte, 16)...))
	got, _ := io.ReadAll(nc)
	if bytes.Contains(got, transport.Magic[:]) {
		t.Fatalf("the Raft port answered a plain handshake: %q", got)
	}
	n.stop()
}
