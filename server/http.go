package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns the operations endpoint, to be served on its own port:
//
//	GET /healthz  200 while the process runs
//	GET /readyz   200 while the server accepts clients, 503 otherwise
//	GET /metrics  Prometheus metrics (commands, latency, keyspace, connections)
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.serving() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: not accepting clients\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}
