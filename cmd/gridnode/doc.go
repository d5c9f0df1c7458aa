// Command gridnode runs one sessiongrid node: the session keyspace
// (session/memory) served over the Redis protocol (RESP2/RESP3), with an
// HTTP endpoint for health, readiness and Prometheus metrics.
//
// With no flags it starts a working node on loopback:
//
//	RESP  127.0.0.1:6379
//	HTTP  127.0.0.1:9379  (/healthz, /readyz, /metrics)
//
// Every setting is a flag and an environment variable (GRIDNODE_ and the
// flag's name in upper case with '-' as '_', e.g. GRIDNODE_MAX_CLIENTS);
// a flag given on the command line wins over the environment. Run
// "gridnode --help" for the list. Bad configuration is refused at start
// with a message and exit code 2.
//
// SIGTERM and SIGINT shut the node down gracefully: it stops accepting
// clients, finishes the requests it has received (for at most
// --shutdown-timeout), closes the connections and the store, and exits 0.
package main
