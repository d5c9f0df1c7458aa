package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/sessiongrid/sessiongrid/server"
)

// Defaults of the abuse bounds.
const (
	defaultHTTPMaxConns       = 256
	defaultClientWriteTimeout = 30 * time.Second
)

// abuseOptions are the bounds on what clients may do: protected mode, the
// HTTP connection cap and the output bounds of RESP clients.
type abuseOptions struct {
	protectedMode      yesNo
	httpMaxConns       int
	clientOutputLimit  byteSize
	clientWriteTimeout time.Duration
}

func addAbuseFlags(fs *flag.FlagSet, o *abuseOptions) {
	o.protectedMode = true
	fs.Var(&o.protectedMode, "protected-mode", "yes: without --password, clients from non-loopback addresses get a DENIED error and are disconnected (as Redis's protected-mode); no: serve them")
	fs.IntVar(&o.httpMaxConns, "http-max-conns", defaultHTTPMaxConns, "most open HTTP connections; more wait in the kernel's accept queue")
	fs.Var(&o.clientOutputLimit, "client-output-limit", "disconnect a RESP client whose pending replies exceed this many bytes, e.g. 256MiB (0: no limit, as Redis's client-output-buffer-limit normal)")
	fs.DurationVar(&o.clientWriteTimeout, "client-write-timeout", defaultClientWriteTimeout, "disconnect a RESP client that has not read its replies for this long (0: never)")
}

func (o abuseOptions) validate() error {
	if o.httpMaxConns <= 0 {
		return fmt.Errorf("--http-max-conns must be positive, got %d", o.httpMaxConns)
	}
	if o.clientWriteTimeout < 0 {
		return fmt.Errorf("--client-write-timeout must not be negative, got %s", o.clientWriteTimeout)
	}
	return nil
}

// yesNo is a boolean flag written yes or no (Redis's style), also
// accepting true/false and 1/0.
type yesNo bool

func (b *yesNo) String() string {
	if *b {
		return "yes"
	}
	return "no"
}

func (b *yesNo) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true", "1", "on":
		*b = true
	case "no", "false", "0", "off":
		*b = false
	default:
		return fmt.Errorf("must be yes or no, got %q", s)
	}
	return nil
}

// warnProtectedMode tells, at start, that protected mode will refuse
// outside clients (RESP bound to a non-loopback address, no password).
func warnProtectedMode(log *slog.Logger, o options, respAddr net.Addr) {
	if !bool(o.abuse.protectedMode) || o.password != "" {
		return
	}
	if ta, ok := respAddr.(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		log.Warn("protected mode: no password is set, so clients from other hosts get a DENIED error; set --password (or --password-file), or --protected-mode no on a trusted network",
			"addr", respAddr.String())
	}
}

// checkFileLimit compares --max-clients with the open-file limit. As Redis
// does, it first raises the soft limit toward the hard one when the clients
// (plus a reserve for listeners, members, the store and logs) need more;
// then it warns when the limit is still short.
func checkFileLimit(log *slog.Logger, maxClients int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open-file limit", "err", err)
		return
	}
	need := uint64(maxClients) + fileReserve
	if lim.Cur < need && lim.Cur < lim.Max {
		raised := lim
		raised.Cur = min(need, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			log.Info("raised the open-file soft limit for --max-clients", "from", lim.Cur, "to", raised.Cur)
			lim = raised
		}
	}
	if lim.Cur < need {
		log.Warn("--max-clients exceeds the open-file limit: accepts will fail with 'too many open files' before max-clients is reached; raise the limit (ulimit -n, LimitNOFILE=, docker --ulimit nofile=) or lower --max-clients",
			"max_clients", maxClients, "open_file_limit", lim.Cur, "hard_limit", lim.Max, "needed", need)
	}
}

// fileReserve is the descriptors kept for other than clients: listeners,
// member connections, the Raft store, HTTP connections, logs.
const fileReserve = 32

// serverAbuseConfig copies the abuse bounds into the server's Config.
func (o abuseOptions) apply(c *server.Config) {
	c.DisableProtectedMode = !bool(o.protectedMode)
	c.OutputLimit = int(o.clientOutputLimit)
	c.WriteTimeout = o.clientWriteTimeout
}
