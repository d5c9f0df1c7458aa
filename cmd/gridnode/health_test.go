package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHealth(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if !ready.Load() {
			http.Error(w, "not ready: not accepting clients", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	noEnv := func(string) string { return "" }

	cases := []struct {
		name   string
		args   []string
		env    map[string]string
		ready  bool
		code   int
		output string
	}{
		{"ready by flag", []string{"health", "--http-addr", srv.Listener.Addr().String()}, nil, true, exitOK, "ready"},
		{"unspecified host is loopback", []string{"health", "--http-addr", "0.0.0.0:" + port}, nil, true, exitOK, "ready"},
		{"address from the environment", []string{"health"}, map[string]string{"GRIDNODE_HTTP_ADDR": "0.0.0.0:" + port}, true, exitOK, "ready"},
		{"not ready", []string{"health", "--http-addr", srv.Listener.Addr().String()}, nil, false, exitFailed, "503"},
		{"nothing listening", []string{"health", "--http-addr", "127.0.0.1:1"}, nil, true, exitFailed, "gridnode health"},
		{"bad address", []string{"health", "--http-addr", "nope"}, nil, true, exitConfig, "--http-addr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ready.Store(tc.ready)
			getenv := noEnv
			if tc.env != nil {
				getenv = func(k string) string { return tc.env[k] }
			}
			var out, errOut strings.Builder
			code := run(context.Background(), tc.args, getenv, &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d (stdout %q, stderr %q)", code, tc.code, out.String(), errOut.String())
			}
			if got := out.String() + errOut.String(); !strings.Contains(got, tc.output) {
				t.Fatalf("output %q does not contain %q", got, tc.output)
			}
		})
	}
}
