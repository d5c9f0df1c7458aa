package main

import (
	"crypto/subtle"
	"net/http"
	"net/http/pprof"
	"strings"
)

// pprofHandler serves Go's profiler under /debug/pprof/, without
// /debug/pprof/cmdline: the command line holds --password and --secret.
// With a password, every request must carry it, as a bearer token
// ("Authorization: Bearer <password>") or as HTTP basic auth (any user
// name, curl -u default:<password>).
func pprofHandler(password string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // named profiles; "cmdline" is not one of them
	mux.HandleFunc("/debug/pprof/cmdline", http.NotFound)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if password == "" {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !httpAuthorized(r, password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="gridnode", charset="UTF-8"`)
			http.Error(w, "the password is required (bearer token or basic auth)", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// httpAuthorized reports whether r carries password as a bearer token or
// as the password of basic auth.
func httpAuthorized(r *http.Request, password string) bool {
	given := ""
	if _, p, ok := r.BasicAuth(); ok {
		given = p
	} else if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		given = tok
	} else {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(given), []byte(password)) == 1
}
