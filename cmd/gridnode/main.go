package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/net/netutil"

	"github.com/sessiongrid/sessiongrid/gridserver"
	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// version is gridnode's version, reported by --version, HELLO and INFO.
const version = "0.1.0"

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // could not start (address in use, ...) or failed while running
	exitConfig = 2 // bad configuration
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is gridnode's main: it serves until ctx ends (a signal), then shuts
// down gracefully, and returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "health" { // `gridnode health`: health.go
		return health(ctx, args[1:], getenv, stdout, stderr)
	}
	opts, err := parseOptions(args, getenv, io.Discard)
	switch {
	case errors.Is(err, flag.ErrHelp):
		newFlagSet(&options{}, stdout).Usage()
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "gridnode: bad configuration: %v (see gridnode --help)\n", err)
		return exitConfig
	}
	if opts.version {
		fmt.Fprintf(stdout, "gridnode %s\n", version)
		return exitOK
	}
	if opts.procs > 0 {
		runtime.GOMAXPROCS(opts.procs)
	}
	level, _ := parseLevel(opts.logLevel)
	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler = slog.NewTextHandler(stderr, hopts)
	if opts.logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, hopts)
	}
	log := slog.New(handler)
	checkFileLimit(log, opts.maxClients)

	respL, err := net.Listen("tcp", opts.addr)
	if err != nil {
		log.Error("cannot listen for RESP clients", "addr", opts.addr, "err", err)
		return exitFailed
	}
	var httpL net.Listener
	if opts.httpAddr != "" {
		if httpL, err = net.Listen("tcp", opts.httpAddr); err != nil {
			respL.Close()
			log.Error("cannot listen for HTTP", "addr", opts.httpAddr, "err", err)
			return exitFailed
		}
	}
	// The TLS port opens before the grid member starts, which advertises it.
	var tlsL net.Listener
	var clientTLS *tlsFiles
	if opts.tls.enabled() {
		if clientTLS, tlsL, err = listenTLS(opts.tls, opts.addr); err != nil {
			respL.Close()
			if httpL != nil {
				httpL.Close()
			}
			log.Error("cannot serve TLS", "err", err)
			return exitFailed
		}
	}
	closeListeners := func() {
		respL.Close()
		if httpL != nil {
			httpL.Close()
		}
		if tlsL != nil {
			tlsL.Close()
		}
	}
	memberTLS, err := opts.tls.memberTLS()
	if err != nil {
		closeListeners()
		log.Error("cannot load the member TLS files", "err", err)
		return exitFailed
	}
	// SIGHUP reloads the client and member certificates.
	var reloaders []reloader
	if clientTLS != nil {
		reloaders = append(reloaders, reloader{name: "TLS certificates", file: opts.tls.certFile, reload: clientTLS.reload})
	}
	if memberTLS != nil {
		reloaders = append(reloaders, reloader{name: "member TLS certificates", file: opts.tls.clusterCertFile,
			reload: func() error { return opts.tls.reloadMemberTLS(memberTLS) }})
	}
	stopSIGHUP := watchSIGHUP(log, reloaders...)
	defer stopSIGHUP()

	// The backend: the local memory store, or in cluster mode this node's
	// share of the grid (which joins first: a node whose join fails exits
	// and never serves on its own).
	var backend server.Backend
	var closeBackend func(context.Context) error
	var member *gridserver.Backend
	if opts.cluster.enabled() {
		tlsAddr := ""
		if tlsL != nil {
			tlsAddr = tlsL.Addr().String()
		}
		member, err = startCluster(ctx, opts, respL.Addr().String(), tlsAddr, memberTLS, log.With("component", "grid"))
		if err != nil {
			closeListeners()
			log.Error("cannot join the grid; not serving", "err", err)
			return exitFailed
		}
		backend, closeBackend = member, member.Member().Close
	} else {
		store, err := memory.New(opts.memoryConfig(log.With("component", "store")))
		if err != nil {
			closeListeners()
			fmt.Fprintf(stderr, "gridnode: bad configuration: %v\n", err)
			return exitConfig
		}
		backend, closeBackend = store, store.Close
	}
	srv, err := server.New(opts.serverConfig(log.With("component", "resp")), backend)
	if err != nil {
		closeListeners()
		closeBackend(context.Background())
		fmt.Fprintf(stderr, "gridnode: bad configuration: %v\n", err)
		return exitConfig
	}
	if member != nil {
		member.ServeForwarded(srv.ExecBatch)
	}

	errc := make(chan error, 3)
	running := 1
	go func() { errc <- srv.Serve(respL) }()
	hs := &http.Server{
		Handler:           httpHandler(srv, opts.pprof, opts.password),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute, // idle keep-alive connections do not pile up
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	tlsAddr := "disabled"
	if tlsL != nil {
		tlsAddr = tlsL.Addr().String()
		serveTLS(tlsL, clientTLS, srv, errc)
		running++
	}
	httpAddr := "disabled"
	if httpL != nil {
		running++
		httpAddr = httpL.Addr().String()
		// A cap on open HTTP connections (idle keep-alives included), so
		// that HTTP clients cannot take the descriptors RESP clients need.
		l := netutil.LimitListener(httpL, opts.abuse.httpMaxConns)
		if opts.tls.httpTLS == "yes" {
			// The handshake runs within ReadHeaderTimeout (net/http).
			l = tls.NewListener(l, clientTLS.httpConfig())
		}
		go func() { errc <- hs.Serve(l) }()
	}
	log.Info("gridnode started", "version", version, "resp_addr", respL.Addr().String(),
		"tls_addr", tlsAddr, "http_addr", httpAddr, "http_tls", opts.tls.httpTLS == "yes", "auth", opts.password != "", "session_idle", opts.sessionIdle,
		"max_clients", opts.maxClients, "procs", runtime.GOMAXPROCS(0), "protected_mode", opts.abuse.protectedMode.String())
	warnProtectedMode(log, opts, respL.Addr())

	code := exitOK
	select {
	case <-ctx.Done():
		log.Info("signal received, shutting down", "timeout", opts.shutdownTimeout)
	case err := <-errc:
		running--
		log.Error("server stopped unexpectedly", "err", err)
		code = exitFailed
	}

	if member != nil {
		// Hand every partition over while still serving (requests for them
		// are forwarded to their new owners meanwhile).
		lctx, cancel := context.WithTimeout(context.Background(), opts.cluster.leaveTimeout)
		if err := member.Member().Node.Drain(lctx); err != nil {
			log.Warn("could not hand every partition over before leaving", "err", err)
		}
		cancel()
	}
	sctx, cancel := context.WithTimeout(context.Background(), opts.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("RESP shutdown did not finish in time; connections closed", "err", err)
	}
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("HTTP shutdown did not finish in time", "err", err)
	}
	for ; running > 0; running-- {
		if err := <-errc; err != nil && !errors.Is(err, server.ErrServerClosed) && !errors.Is(err, http.ErrServerClosed) {
			log.Error("server failed", "err", err)
			code = exitFailed
		}
	}
	if member != nil {
		if err := member.Member().Depart(sctx); err != nil {
			log.Warn("leaving the grid", "err", err)
		}
	} else if err := closeBackend(sctx); err != nil {
		log.Error("closing the store", "err", err)
		code = exitFailed
	}
	log.Info("gridnode stopped")
	return code
}

// httpHandler is the server's operations handler, with the profiler under
// /debug/pprof/ when enabled (see pprof.go).
func httpHandler(srv *server.Server, withPprof bool, password string) http.Handler {
	if !withPprof {
		return srv.Handler()
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.Handle("/debug/pprof/", pprofHandler(password))
	return mux
}
