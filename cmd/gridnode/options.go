package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// envPrefix prefixes the environment variable of every flag.
const envPrefix = "GRIDNODE_"

// Defaults of the settings that are not the packages' defaults.
const (
	defaultHTTPAddr        = "127.0.0.1:9379"
	defaultShutdownTimeout = 10 * time.Second
)

// options are gridnode's settings, from flags and the environment.
type options struct {
	addr            string
	httpAddr        string
	password        string
	maxClients      int
	maxRequestBytes byteSize
	maxValueBytes   byteSize
	idleTimeout     time.Duration
	slowlogSlower   int64 // microseconds, Redis's slowlog-log-slower-than
	slowlogMaxLen   int
	sessionIdle     time.Duration
	touchOnRead     bool
	shards          int
	procs           int
	sweepInterval   time.Duration
	shutdownTimeout time.Duration
	logLevel        string
	logFormat       string
	pprof           bool
	version         bool
	cluster         clusterOptions
	tls             tlsOptions
	files           secretFiles
	notifyEvents    string   // --notify-keyspace-events
	pubsubLimit     byteSize // --pubsub-output-limit
	abuse           abuseOptions
}

// newFlagSet returns the flag set bound to o, with gridnode's defaults.
func newFlagSet(o *options, out io.Writer) *flag.FlagSet {
	srv := server.DefaultConfig()
	mem := memory.DefaultConfig()
	*o = options{
		maxRequestBytes: byteSize(srv.MaxRequestBytes),
		maxValueBytes:   byteSize(srv.MaxValueSize),
		pubsubLimit:     server.DefaultPubsubOutputLimit,
	}
	fs := flag.NewFlagSet("gridnode", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", srv.Addr, "RESP listen address (host:port; port 0 picks a free port, logged at start)")
	fs.StringVar(&o.httpAddr, "http-addr", defaultHTTPAddr, "HTTP address of /healthz, /readyz and /metrics (empty disables it)")
	fs.StringVar(&o.password, "password", "", "password clients must give (AUTH or HELLO AUTH) before any other command; empty: none")
	fs.IntVar(&o.maxClients, "max-clients", srv.MaxConnections, "most open client connections; more are refused with an error")
	fs.Var(&o.maxRequestBytes, "max-request-bytes", "largest request (one bulk string or one whole command), e.g. 64MiB; larger ones close the connection")
	fs.Var(&o.maxValueBytes, "max-value-bytes", "largest value (field, string, prop, global), e.g. 8MiB; larger ones get a TOOLARGE error")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 0, "close a client connection idle for this long (0: never)")
	fs.StringVar(&o.notifyEvents, "notify-keyspace-events", "", "keyspace notifications published, in Redis's letters (e.g. KEA, Ex; K keyspace, E keyevent, g generic, $ string, h hash, x expired, A all); empty: none")
	fs.Var(&o.pubsubLimit, "pubsub-output-limit", "output a Pub/Sub client may have waiting, e.g. 32MiB (Redis's client-output-buffer-limit pubsub hard limit); a subscriber past it is disconnected")
	fs.Int64Var(&o.slowlogSlower, "slowlog-log-slower-than", int64(server.DefaultSlowlogLogSlowerThan/time.Microsecond),
		"record in SLOWLOG the commands that run longer than this many microseconds (0: every command; negative: none)")
	fs.IntVar(&o.slowlogMaxLen, "slowlog-max-len", server.DefaultSlowlogMaxLen, "entries SLOWLOG keeps, newest first (0: none)")
	fs.DurationVar(&o.sessionIdle, "session-idle", mem.DefaultIdle, "idle timeout of a session (slides on every write)")
	fs.BoolVar(&o.touchOnRead, "touch-on-read", false, "reads also slide a session's idle timeout")
	fs.IntVar(&o.shards, "shards", mem.Shards, "lock shards of the in-memory store (a power of two)")
	fs.IntVar(&o.procs, "procs", 0, "CPUs the node's Go code may use at once (GOMAXPROCS); 0: Go's default, all available CPUs")
	fs.DurationVar(&o.sweepInterval, "sweep-interval", mem.SweepInterval, "period of the sweep that reclaims the memory of expired sessions")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "on SIGTERM/SIGINT, how long to wait for in-flight requests before closing connections")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&o.pprof, "pprof", false, "serve Go's profiler at /debug/pprof/ on the HTTP address")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	addClusterFlags(fs, &o.cluster)
	addTLSFlags(fs, &o.tls)
	addSecretFileFlags(fs, &o.files)
	addAbuseFlags(fs, &o.abuse)
	fs.Usage = func() { usage(fs) }
	return fs
}

// envName returns the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, `Usage: gridnode [flags]

gridnode serves a sessiongrid session store over the Redis protocol (RESP2/RESP3)
and health, readiness and Prometheus metrics over HTTP. With no flags it starts a
working node on loopback. Every flag can also be set by its environment variable;
a flag on the command line wins.

Flags:
`)
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  --%s\n      %s\n      (env %s, default %s)\n", f.Name, f.Usage, envName(f.Name), def)
	})
}

// parseOptions parses args, then the environment for the flags not given,
// and validates the result. It returns flag.ErrHelp for --help.
func parseOptions(args []string, getenv func(string) string, out io.Writer) (options, error) {
	var o options
	fs := newFlagSet(&o, out)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (settings are flags: see --help)", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v, ok := lookupEnv(getenv, envName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	o.cluster.backupsSet = given["backup-count"] || given["async-backup-count"] ||
		getenv(envName("backup-count")) != "" || getenv(envName("async-backup-count")) != ""
	if err := o.readSecretFiles(); err != nil {
		return o, err
	}
	return o, o.validate()
}

func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// validate checks what the packages' Validate methods do not.
func (o options) validate() error {
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return fmt.Errorf("--addr %q: %v", o.addr, err)
	}
	if o.httpAddr != "" {
		if _, _, err := net.SplitHostPort(o.httpAddr); err != nil {
			return fmt.Errorf("--http-addr %q: %v", o.httpAddr, err)
		}
	}
	if o.maxClients <= 0 {
		return fmt.Errorf("--max-clients must be positive, got %d", o.maxClients)
	}
	if o.maxValueBytes <= 0 || o.maxRequestBytes <= 0 {
		return errors.New("--max-value-bytes and --max-request-bytes must be positive")
	}
	if o.pubsubLimit <= 0 {
		return fmt.Errorf("--pubsub-output-limit must be positive, got %d", o.pubsubLimit)
	}
	if o.sessionIdle <= 0 {
		return fmt.Errorf("--session-idle must be positive, got %s", o.sessionIdle)
	}
	if o.sweepInterval <= 0 {
		return fmt.Errorf("--sweep-interval must be positive, got %s", o.sweepInterval)
	}
	if o.shutdownTimeout <= 0 {
		return fmt.Errorf("--shutdown-timeout must be positive, got %s", o.shutdownTimeout)
	}
	if o.slowlogMaxLen < 0 {
		return fmt.Errorf("--slowlog-max-len must not be negative, got %d", o.slowlogMaxLen)
	}
	if o.procs < 0 {
		return fmt.Errorf("--procs must not be negative, got %d", o.procs)
	}
	if o.shards <= 0 {
		return fmt.Errorf("--shards must be a positive power of two, got %d", o.shards)
	}
	if _, err := parseLevel(o.logLevel); err != nil {
		return err
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, got %q", o.logFormat)
	}
	if err := o.cluster.validate(); err != nil {
		return err
	}
	if err := o.tls.validate(); err != nil {
		return err
	}
	if err := o.abuse.validate(); err != nil {
		return err
	}
	if err := o.memoryConfig(nil).Validate(); err != nil {
		return err
	}
	return o.serverConfig(nil).Validate()
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	switch strings.ToLower(s) {
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		return l, fmt.Errorf("--log-level must be debug, info, warn or error, got %q", s)
	}
	return l, nil
}

func (o options) memoryConfig(log *slog.Logger) memory.Config {
	return memory.Config{
		Shards:        o.shards,
		DefaultIdle:   o.sessionIdle,
		TouchOnRead:   o.touchOnRead,
		MaxValueSize:  int(o.maxValueBytes),
		SweepInterval: o.sweepInterval,
		Logger:        log,
	}
}

func (o options) serverConfig(log *slog.Logger) server.Config {
	c := server.Config{
		Addr:            o.addr,
		Password:        o.password,
		MaxConnections:  o.maxClients,
		MaxRequestBytes: int(o.maxRequestBytes),
		MaxValueSize:    int(o.maxValueBytes),
		IdleTimeout:     o.idleTimeout,
		Logger:          log,
		Version:         version,

		NotifyKeyspaceEvents: o.notifyEvents,
		PubsubOutputLimit:    int(o.pubsubLimit),
		SlowlogLogSlowerThan: slowlogThreshold(o.slowlogSlower),
		SlowlogMaxLen:        cmp.Or(o.slowlogMaxLen, -1), // 0 keeps none
	}
	o.abuse.apply(&c)
	return c
}

// slowlogThreshold maps --slowlog-log-slower-than (Redis's microseconds)
// to server.Config's duration, where 0 means the default.
func slowlogThreshold(us int64) time.Duration {
	switch {
	case us < 0:
		return -1
	case us == 0:
		return time.Nanosecond // every command
	case us > int64(time.Duration(1<<62)/time.Microsecond):
		return 1 << 62
	}
	return time.Duration(us) * time.Microsecond
}

// byteSize is a flag holding a size in bytes: a number with an optional
// binary unit (k, KB, KiB, m, MB, MiB, g, GB, GiB; case-insensitive).
type byteSize int

func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		shift int
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Set(s string) error {
	t := strings.ToLower(strings.TrimSpace(s))
	shift := 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"kib", 10}, {"mib", 20}, {"gib", 30}, {"kb", 10}, {"mb", 20}, {"gb", 30}, {"k", 10}, {"m", 20}, {"g", 30}, {"b", 0}} {
		if strings.HasSuffix(t, u.suffix) {
			t, shift = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("not a size in bytes (e.g. 1048576, 512KiB, 8MiB): %q", s)
	}
	if n > (1<<31-1)>>shift {
		return fmt.Errorf("size %q is over 2GiB", s)
	}
	*b = byteSize(n << shift)
	return nil
}
