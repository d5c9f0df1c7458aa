package main

import (
	"net/http"
	"net/http/pprof"

	"github.com/sessiongrid/sessiongrid/server"
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
	return server.RequirePassword(password, mux)
}
