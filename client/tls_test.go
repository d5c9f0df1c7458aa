package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/gridserver/gridtest"
	"github.com/sessiongrid/sessiongrid/internal/testcert"
	"github.com/sessiongrid/sessiongrid/internal/testlog"
	"github.com/sessiongrid/sessiongrid/session"
)

// On a 3-member grid whose servers have TLS client ports (client
// certificates required), the smart client with a TLSConfig learns each
// owner's TLS address from GRID.TABLE, sends each session's calls there
// over TLS, and never uses a plain port; without a client certificate it
// cannot start.
func TestSmartClientTLS(t *testing.T) {
	ca := testcert.NewCA(t, "clients-ca")
	g := gridtest.Start(t, gridtest.Options{TLS: &tls.Config{
		Certificates: []tls.Certificate{ca.Issue(t, "gridnode").TLS},
		ClientCAs:    ca.Pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}})
	ctx := context.Background()
	bot := ca.Issue(t, "bot")
	var seeds []string
	tlsOf := map[string]string{}
	for _, n := range g.Nodes {
		seeds = append(seeds, n.TLSAddr)
		tlsOf[n.Member.Node.Name()] = n.TLSAddr
	}
	cfg := SmartConfig{RemoteConfig: RemoteConfig{Addr: seeds[0], Addrs: seeds[1:], Logger: testlog.New(t),
		TLSConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{bot.TLS}}}}
	s, err := NewSmart(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)

	owners := map[string]bool{}
	for i := range 100 {
		id := fmt.Sprint("user-", i)
		owner := g.Nodes[0].Member.Node.Owner(id)
		if got := s.pick(id).cfg.Addr; got != tlsOf[owner] {
			t.Fatalf("%s: smart client picks %s, owner %s has its TLS port at %s", id, got, owner, tlsOf[owner])
		}
		owners[owner] = true
		if _, err := s.Save(ctx, id, session.Field{Key: "k", Value: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(owners) != 3 {
		t.Fatalf("the sessions' owners: %v, want all three members", owners)
	}
	for i := range 100 {
		id := fmt.Sprint("user-", i)
		if v, err := s.Get(ctx, id, "k"); err != nil || string(v) != id {
			t.Fatalf("%s over TLS = %q, %v", id, v, err)
		}
	}
	// Every member served the smart client on its TLS port, none on its
	// plain port (the one plain client there is this test's).
	for i, n := range g.Nodes {
		r := newTestRemote(t, n.Addr, nil)
		list, err := r.rdb.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if c := strings.Count(list, "laddr="+n.Addr+" "); c != 1 {
			t.Errorf("member %d: %d clients on the plain port, want 1 (this test's):\n%s", i, c, list)
		}
		if !regexp.MustCompile(`laddr=` + regexp.QuoteMeta(n.TLSAddr) + ` .*cmd=(hget|hset)`).MatchString(list) {
			t.Errorf("member %d: no HSET/HGET of the smart client on its TLS port:\n%s", i, list)
		}
	}

	noCert := cfg
	noCert.TLSConfig = &tls.Config{RootCAs: ca.Pool()}
	noCert.MaxRetries, noCert.DialTimeout, noCert.ReadTimeout = -1, 2*time.Second, 2*time.Second
	if s, err := NewSmart(ctx, noCert); err == nil {
		s.Close(ctx)
		t.Fatal("a smart client without a client certificate started")
	}
}
