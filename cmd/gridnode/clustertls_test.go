package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongrid/sessiongrid/internal/testcert"
	"github.com/sessiongrid/sessiongrid/transport"
)

var raftAddrRE = regexp.MustCompile(`Raft started".* raft_addr=(\S+)`)

// A cluster-mode gridnode with member TLS serves globals (through its Raft
// group), does not warn that its member ports are open, and its Raft port
// answers a plain-text handshake with nothing of the members' protocol.
func TestRunClusterTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "cluster-ca")
	certFile, keyFile := ca.Issue(t, "n1").WriteFiles(t, dir, "n1")
	caFile := ca.WriteFile(t, dir, "ca")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan struct{})
	var code int
	go func() {
		defer close(done)
		code = run(ctx, []string{"--addr", "127.0.0.1:0", "--http-addr", "", "--node-name", "n1",
			"--bootstrap-expect", "1", "--gossip-addr", "127.0.0.1:0", "--transport-addr", "127.0.0.1:0",
			"--raft-addr", "127.0.0.1:0", "--advertise", "127.0.0.1",
			"--cluster-tls-cert-file", certFile, "--cluster-tls-key-file", keyFile, "--cluster-tls-ca-cert-file", caFile,
			"--leave-timeout", "2s"}, env(nil), &stdout, &stderr)
	}()
	var resp, raftAddr string
	deadline := time.Now().Add(30 * time.Second)
	for resp == "" || raftAddr == "" {
		s := stderr.String()
		if m := respAddrRE.FindStringSubmatch(s); m != nil {
			resp = m[1]
		}
		if m := raftAddrRE.FindStringSubmatch(s); m != nil {
			raftAddr = m[1]
		}
		select {
		case <-done:
			t.Fatalf("gridnode exited; log:\n%s", s)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no addresses in the log:\n%s", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c := redis.NewClient(&redis.Options{Addr: resp, MaxRetries: -1})
	defer c.Close()
	deadline = time.Now().Add(30 * time.Second)
	for {
		err := c.Do(ctx, "GLOBAL.SET", "g", "v").Err()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GLOBAL.SET: %v; log:\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(stderr.String(), "accept anyone") {
		t.Fatalf("warned about open member ports with member TLS:\n%s", stderr.String())
	}
	// A peer speaking the members' handshake without TLS gets nothing of it.
	nc, err := net.Dial("tcp", raftAddr)
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
	cancel()
	<-done
	if code != exitOK {
		t.Fatalf("exit code %d; log:\n%s", code, stderr.String())
	}
}
