package server

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns the operations endpoint, to be served on its own port:
//
//	GET /healthz  200 while the process runs
//	GET /readyz   200 while the server accepts clients, 503 otherwise
//	GET /metrics  Prometheus metrics (commands, latency, keyspace, connections)
//	GET /cluster  the grid as this node sees it, as JSON (members, Raft
//	              leader and voters, applied index, table epoch); with
//	              ?key=K also the partition and owner of K
//	GET /cluster/safe  200 when the grid is cluster-safe (every partition has
//	    its full backup count, in sync, nothing moving), 503 otherwise; JSON
//	GET /cluster/table  the partition table: owner client address per partition
//
// With Config.Password, /cluster and /cluster/table require it (see
// RequirePassword).
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
	// inGrid serves h with the node's Cluster; a node not in a grid
	// answers 404.
	inGrid := func(h func(http.ResponseWriter, *http.Request, Cluster)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			cl, ok := s.backend.(Cluster)
			if !ok {
				http.Error(w, "this node is not in a grid", http.StatusNotFound)
				return
			}
			h(w, r, cl)
		}
	}
	// The grid's layout needs the password when one is set; health,
	// readiness and metrics stay open (bind the HTTP address to loopback).
	cluster := func(pattern string, h func(http.ResponseWriter, *http.Request, Cluster)) {
		mux.Handle(pattern, RequirePassword(s.cfg.Password, inGrid(h)))
	}
	cluster("GET /cluster", func(w http.ResponseWriter, r *http.Request, cl Cluster) {
		out := struct {
			ClusterStatus
			Key *keyOwner `json:"key,omitempty"`
		}{ClusterStatus: cl.ClusterStatus(r.Context())}
		if k := r.URL.Query().Get("key"); k != "" {
			p, owner, addr := cl.ClusterOwner(k)
			out.Key = &keyOwner{Key: k, Partition: p, Owner: owner, Addr: addr}
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /cluster/safe", inGrid(func(w http.ResponseWriter, r *http.Request, cl Cluster) {
		st := cl.ClusterSafe(r.Context())
		if !st.Safe {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(st)
			return
		}
		writeJSON(w, st)
	}))
	cluster("GET /cluster/table", func(w http.ResponseWriter, r *http.Request, cl Cluster) {
		epoch, owners := cl.ClusterTable(false)
		counts := map[string]int{}
		for _, o := range owners {
			counts[o]++
		}
		out := map[string]any{"epoch": epoch, "owners": owners, "partitions_per_owner": counts}
		if _, tlsOwners := cl.ClusterTable(true); slices.ContainsFunc(tlsOwners, func(a string) bool { return a != "" }) {
			out["tls_owners"] = tlsOwners
		}
		writeJSON(w, out)
	})
	return mux
}

type keyOwner struct {
	Key       string `json:"key"`
	Partition int    `json:"partition"`
	Owner     string `json:"owner"`
	Addr      string `json:"client_addr"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
