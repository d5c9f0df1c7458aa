package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/transport"
)

// TLS for clients, with Redis's flag names: a TLS port beside the plain
// one (--port 0 is not offered: the plain --addr stays), certificates
// reloaded on SIGHUP without dropping connections.
type tlsOptions struct {
	port        int
	addr        string // host:port; overrides --tls-port (tests use port 0)
	certFile    string
	keyFile     string
	caCertFile  string
	authClients string
	protocols   string
	httpTLS     string // "yes": the HTTP port serves HTTPS with the client certificate

	// Member TLS (cluster mode): internal transport and Raft.
	clusterCertFile   string
	clusterKeyFile    string
	clusterCACertFile string
}

func addTLSFlags(fs *flag.FlagSet, o *tlsOptions) {
	fs.IntVar(&o.port, "tls-port", 0, "TLS port for RESP clients, on the host of --addr (0: no TLS port)")
	fs.StringVar(&o.addr, "tls-addr", "", "TLS listen address for RESP clients (host:port; overrides --tls-port; port 0 picks a free port, logged at start)")
	fs.StringVar(&o.certFile, "tls-cert-file", "", "PEM certificate (chain) of the TLS port; reloaded on SIGHUP")
	fs.StringVar(&o.keyFile, "tls-key-file", "", "PEM private key of --tls-cert-file; reloaded on SIGHUP")
	fs.StringVar(&o.caCertFile, "tls-ca-cert-file", "", "PEM CA certificates that client certificates must chain to; reloaded on SIGHUP")
	fs.StringVar(&o.authClients, "tls-auth-clients", "yes", "client certificates: yes (required, verified), optional (verified when given) or no")
	fs.StringVar(&o.clusterCertFile, "cluster-tls-cert-file", "", "cluster mode: PEM certificate of this member for mutual TLS on the internal transport and Raft ports")
	fs.StringVar(&o.clusterKeyFile, "cluster-tls-key-file", "", "cluster mode: PEM private key of --cluster-tls-cert-file")
	fs.StringVar(&o.clusterCACertFile, "cluster-tls-ca-cert-file", "", "cluster mode: PEM cluster CA; members' certificates must chain to it (host names are not checked)")
	fs.StringVar(&o.protocols, "tls-protocols", "TLSv1.2 TLSv1.3", "TLS versions accepted, space-separated: TLSv1.2, TLSv1.3")
	fs.StringVar(&o.httpTLS, "http-tls", "no", "yes: the HTTP address (/metrics, /cluster, ...) serves HTTPS with --tls-cert-file (reloaded on SIGHUP; no client certificate asked: /cluster and pprof keep to --password); needs a TLS port")
}

func (o tlsOptions) enabled() bool { return o.port != 0 || o.addr != "" }

// listenAddr is the TLS address, from --tls-addr or --tls-port and the host
// of addr.
func (o tlsOptions) listenAddr(addr string) string {
	if o.addr != "" {
		return o.addr
	}
	host, _, _ := net.SplitHostPort(addr)
	return net.JoinHostPort(host, strconv.Itoa(o.port))
}

func (o tlsOptions) validate() error {
	given := 0
	for _, f := range []string{o.clusterCertFile, o.clusterKeyFile, o.clusterCACertFile} {
		if f != "" {
			given++
		}
	}
	if given != 0 && given != 3 {
		return errors.New("member TLS needs all of --cluster-tls-cert-file, --cluster-tls-key-file and --cluster-tls-ca-cert-file")
	}
	switch o.httpTLS {
	case "", "no":
	case "yes":
		if !o.enabled() {
			return errors.New("--http-tls yes serves the client TLS certificate: give a TLS port (--tls-port or --tls-addr) with --tls-cert-file and --tls-key-file")
		}
	default:
		return fmt.Errorf("--http-tls must be yes or no, got %q", o.httpTLS)
	}
	if !o.enabled() {
		return nil
	}
	if o.port < 0 || o.port > 65535 {
		return fmt.Errorf("--tls-port must be 0..65535, got %d", o.port)
	}
	if o.addr != "" {
		if _, _, err := net.SplitHostPort(o.addr); err != nil {
			return fmt.Errorf("--tls-addr %q: %v", o.addr, err)
		}
	}
	if o.certFile == "" || o.keyFile == "" {
		return errors.New("a TLS port needs --tls-cert-file and --tls-key-file")
	}
	switch o.authClients {
	case "yes", "optional":
		if o.caCertFile == "" {
			return fmt.Errorf("--tls-auth-clients %s needs --tls-ca-cert-file (or set --tls-auth-clients no)", o.authClients)
		}
	case "no":
	default:
		return fmt.Errorf("--tls-auth-clients must be yes, no or optional, got %q", o.authClients)
	}
	if _, _, err := parseTLSProtocols(o.protocols); err != nil {
		return err
	}
	return nil
}

func parseTLSProtocols(s string) (lo, hi uint16, err error) {
	for _, p := range strings.Fields(s) {
		var v uint16
		switch strings.ToLower(p) {
		case "tlsv1.2":
			v = tls.VersionTLS12
		case "tlsv1.3":
			v = tls.VersionTLS13
		default:
			return 0, 0, fmt.Errorf("--tls-protocols: unsupported %q (TLSv1.2 and TLSv1.3 are)", p)
		}
		if lo == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	if lo == 0 {
		return 0, 0, errors.New("--tls-protocols names no protocol")
	}
	return lo, hi, nil
}

// tlsFiles holds the certificate and CA pool read from the files, replaced
// whole by reload; handshakes read the current ones.
type tlsFiles struct {
	o    tlsOptions
	cur  atomic.Pointer[tls.Config]
	http atomic.Pointer[tls.Config] // the same certificate, no client certificates
}

// reload reads the files again; on error the previous configuration stays.
func (f *tlsFiles) reload() error {
	cert, err := tls.LoadX509KeyPair(f.o.certFile, f.o.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	lo, hi, _ := parseTLSProtocols(f.o.protocols)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: lo, MaxVersion: hi}
	httpCfg := cfg.Clone()
	if f.o.caCertFile != "" {
		pem, err := os.ReadFile(f.o.caCertFile)
		if err != nil {
			return fmt.Errorf("TLS CA certificates: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("TLS CA certificates: no PEM certificate in %s", f.o.caCertFile)
		}
		cfg.ClientCAs = pool
	}
	switch f.o.authClients {
	case "yes":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "optional":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	f.cur.Store(cfg)
	f.http.Store(httpCfg)
	return nil
}

// httpConfig is the HTTP listener's configuration (--http-tls): the
// current certificate, no client certificate asked.
func (f *tlsFiles) httpConfig() *tls.Config { return f.serving(&f.http) }

// config is the listener's configuration: each handshake takes the current
// files' configuration.
func (f *tlsFiles) config() *tls.Config { return f.serving(&f.cur) }

// serving is a listener's configuration whose every handshake takes the
// configuration cur holds then, so that a reload applies to the next one.
func (f *tlsFiles) serving(cur *atomic.Pointer[tls.Config]) *tls.Config {
	lo, hi, _ := parseTLSProtocols(f.o.protocols)
	return &tls.Config{
		MinVersion:         lo,
		MaxVersion:         hi,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return cur.Load(), nil },
	}
}

// listenTLS reads the client TLS files and opens the TLS port (before the
// grid member starts, so that it can advertise the port); serveTLS then
// serves on it.
func listenTLS(o tlsOptions, addr string) (*tlsFiles, net.Listener, error) {
	files := &tlsFiles{o: o}
	if err := files.reload(); err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", o.listenAddr(addr))
	if err != nil {
		return nil, nil, fmt.Errorf("listen for TLS clients on %s: %w", o.listenAddr(addr), err)
	}
	return files, ln, nil
}

// serveTLS serves srv on ln with TLS until srv shuts down.
func serveTLS(ln net.Listener, files *tlsFiles, srv *server.Server, errc chan<- error) {
	go func() {
		errc <- srv.Serve(server.NewTLSListener(ln, files.config(), server.DefaultTLSHandshakeTimeout))
	}()
}

// reloader is a set of certificate files read again on SIGHUP.
type reloader struct {
	name   string // in the log
	file   string
	reload func() error
}

// watchSIGHUP reloads every r on SIGHUP (each keeps its previous
// certificates when its files fail to load) until stop is called. Open
// connections are not touched: new handshakes use the new files.
func watchSIGHUP(log *slog.Logger, rs ...reloader) (stop func()) {
	if len(rs) == 0 {
		return func() {}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				for _, r := range rs {
					if err := r.reload(); err != nil {
						log.Error("SIGHUP: "+r.name+" not reloaded; the previous ones stay", "err", err)
					} else {
						log.Info("SIGHUP: "+r.name+" reloaded", "cert", r.file)
					}
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		wg.Wait()
	}
}

// memberTLS returns the members' TLS credentials, nil when not set.
func (o tlsOptions) memberTLS() (*transport.MemberCredentials, error) {
	if o.clusterCertFile == "" {
		return nil, nil
	}
	cert, pool, err := o.loadMemberFiles()
	if err != nil {
		return nil, err
	}
	return transport.NewMemberCredentials(cert, pool), nil
}

// reloadMemberTLS reads the member TLS files again into c; on error c
// keeps the previous ones.
func (o tlsOptions) reloadMemberTLS(c *transport.MemberCredentials) error {
	cert, pool, err := o.loadMemberFiles()
	if err != nil {
		return err
	}
	c.Set(cert, pool)
	return nil
}

func (o tlsOptions) loadMemberFiles() (tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.LoadX509KeyPair(o.clusterCertFile, o.clusterKeyFile)
	if err != nil {
		return cert, nil, fmt.Errorf("member TLS certificate: %w", err)
	}
	pem, err := os.ReadFile(o.clusterCACertFile)
	if err != nil {
		return cert, nil, fmt.Errorf("member TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return cert, nil, fmt.Errorf("member TLS CA: no PEM certificate in %s", o.clusterCACertFile)
	}
	return cert, pool, nil
}
