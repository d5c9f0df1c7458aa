package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPprofHidesCmdlineAndNeedsPassword(t *testing.T) {
	get := func(h http.Handler, path string, set func(*http.Request)) (int, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if set != nil {
			set(req)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	open := pprofHandler("")
	if code, body := get(open, "/debug/pprof/cmdline", nil); code != http.StatusNotFound || strings.Contains(body, "test") {
		t.Fatalf("cmdline without a password: %d %q", code, body)
	}
	if code, _ := get(open, "/debug/pprof/", nil); code != http.StatusOK {
		t.Fatalf("index without a password: %d", code)
	}

	locked := pprofHandler("s3cret")
	cases := []struct {
		name string
		set  func(*http.Request)
		want int
	}{
		{"no credentials", nil, http.StatusUnauthorized},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, http.StatusUnauthorized},
		{"wrong basic", func(r *http.Request) { r.SetBasicAuth("default", "nope") }, http.StatusUnauthorized},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") }, http.StatusOK},
		{"basic", func(r *http.Request) { r.SetBasicAuth("default", "s3cret") }, http.StatusOK},
	}
	for _, tc := range cases {
		if code, _ := get(locked, "/debug/pprof/goroutine?debug=1", tc.set); code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
		}
	}
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") }
	if code, body := get(locked, "/debug/pprof/cmdline", bearer); code != http.StatusNotFound || strings.Contains(body, "s3cret") {
		t.Fatalf("cmdline with the password: %d %q", code, body)
	}
}
