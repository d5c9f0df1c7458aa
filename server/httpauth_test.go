package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// With a password, /cluster and /cluster/table need it; /healthz, /readyz
// and /metrics stay open.
func TestHTTPClusterNeedsPassword(t *testing.T) {
	n := newTestNode(t, Config{Password: "s3cret"}, func(b Backend) Backend { return clusterBackend{b} })
	h := n.srv.Handler()
	get := func(path string, set func(*http.Request)) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if set != nil {
			set(req)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, path := range []string{"/cluster", "/cluster/table"} {
		if code := get(path, nil); code != http.StatusUnauthorized {
			t.Errorf("%s without the password: %d", path, code)
		}
		if code := get(path, func(r *http.Request) { r.SetBasicAuth("x", "wrong") }); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong password: %d", path, code)
		}
		if code := get(path, func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") }); code != http.StatusOK {
			t.Errorf("%s with the bearer token: %d", path, code)
		}
		if code := get(path, func(r *http.Request) { r.SetBasicAuth("default", "s3cret") }); code != http.StatusOK {
			t.Errorf("%s with basic auth: %d", path, code)
		}
	}
	for _, path := range []string{"/healthz", "/metrics"} {
		if code := get(path, nil); code != http.StatusOK {
			t.Errorf("%s: %d", path, code)
		}
	}
}
