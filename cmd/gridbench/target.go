package main

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Kinds of targets.
const (
	kindMemory     = "memory"     // the in-process memory backend (session/memory)
	kindFile       = "file"       // one file per session (session/file)
	kindBolt       = "bolt"       // embedded B+tree (session/bolt, bbolt)
	kindCache      = "cache"      // bounded W-TinyLFU cache (session/cache, otter)
	kindRedisStore = "redisstore" // the Redis backend (session/redis) against a server
	kindRemote     = "remote"     // gridnode through client.Remote (session commands)
	kindSmart      = "smart"      // a gridnode grid through client.Smart (straight to each owner)
	kindRedis      = "redis"      // any RESP server through plain hash commands
)

// Options of targets, written after the kind: "bolt+nosync+batch".
const (
	optNoSync   = "nosync"   // file, bolt: no fsync (file: Config.Fsync off, bolt: NoSync)
	optBatch    = "batch"    // bolt: Config.Batch, concurrent writes share a commit
	optGridnode = "gridnode" // redisstore: ModeGridnode instead of ModeScript
)

// kindInfo says what the '=' argument and the options of a kind are.
type kindInfo struct {
	arg  string   // "" (none), "path" (optional) or "addr" (required)
	opts []string // allowed options
}

var kinds = map[string]kindInfo{
	kindMemory:     {},
	kindFile:       {arg: "path", opts: []string{optNoSync}},
	kindBolt:       {arg: "path", opts: []string{optNoSync, optBatch}},
	kindCache:      {},
	kindRedisStore: {arg: "addr", opts: []string{optGridnode}},
	kindRemote:     {arg: "addr"},
	kindSmart:      {arg: "addr"},
	kindRedis:      {arg: "addr"},
}

// targetUsage is the grammar of -targets, for the flag's help.
const targetUsage = "comma-separated targets, each KIND[+OPTION...][=ARG]: " +
	"memory; file[+nosync][=DIR]; bolt[+nosync][+batch][=PATH]; cache; " +
	"redisstore[+gridnode]=ADDR; remote=ADDR; smart=ADDR (any node of a grid); redis=ADDR " +
	"(ADDR is host:port, or a unix socket path for redis and redisstore; " +
	"without DIR or PATH a temporary one is used and removed afterwards)"

// targetSpec names one store to run the workload against.
type targetSpec struct {
	Kind string
	// Opts are the options given after the kind, in order.
	Opts []string
	// Addr is the server of remote, redis and redisstore: host:port, or a
	// unix socket path (starting with '/') for redis and redisstore.
	Addr string
	// Path is the directory of file or the database of bolt; empty for a
	// temporary one.
	Path string
	// Name is the kind with its options, as written: "bolt+nosync".
	Name string
	// Label names the target in the output: Name, then "@" and the
	// argument when there is one.
	Label string
}

// has reports whether the spec was given option opt.
func (s targetSpec) has(opt string) bool { return slices.Contains(s.Opts, opt) }

// parseTargets parses "memory,file+nosync,bolt=/var/lib/x.db,remote=host:port".
func parseTargets(s string) ([]targetSpec, error) {
	var out []targetSpec
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, arg, hasArg := strings.Cut(part, "=")
		if hasArg && arg == "" {
			return nil, fmt.Errorf("target %q: empty argument after '='", part)
		}
		spec, err := newTargetSpec(name, arg)
		if err != nil {
			return nil, err
		}
		out = append(out, spec)
	}
	if len(out) == 0 {
		return nil, errors.New("no target given")
	}
	return out, nil
}

// newTargetSpec checks the kind, options and argument of one target.
func newTargetSpec(name, arg string) (targetSpec, error) {
	fields := strings.Split(name, "+")
	kind, opts := fields[0], fields[1:]
	info, ok := kinds[kind]
	if !ok {
		return targetSpec{}, fmt.Errorf("unknown target %q: want memory, file, bolt, cache, redisstore, remote or redis", kind)
	}
	for i, o := range opts {
		if !slices.Contains(info.opts, o) {
			return targetSpec{}, fmt.Errorf("target %s: unknown option %q (allowed: %s)", kind, o, allowed(info.opts))
		}
		if slices.Contains(opts[:i], o) {
			return targetSpec{}, fmt.Errorf("target %s: option %q given twice", kind, o)
		}
	}
	spec := targetSpec{Kind: kind, Opts: opts, Name: name, Label: name}
	switch info.arg {
	case "":
		if arg != "" {
			return targetSpec{}, fmt.Errorf("target %s takes no argument, got %q", kind, arg)
		}
	case "path":
		spec.Path = arg
	case "addr":
		if arg == "" {
			return targetSpec{}, fmt.Errorf("target %s needs an address: %s=host:port", kind, name)
		}
		unixOK := kind == kindRedis || kind == kindRedisStore
		if !(unixOK && strings.HasPrefix(arg, "/")) {
			if _, _, err := net.SplitHostPort(arg); err != nil {
				return targetSpec{}, fmt.Errorf("target %s: address %q: %w", kind, arg, err)
			}
		}
		spec.Addr = arg
	}
	if arg != "" {
		spec.Label += "@" + arg
	}
	return spec, nil
}

func allowed(opts []string) string {
	if len(opts) == 0 {
		return "none"
	}
	return strings.Join(opts, ", ")
}

// network returns go-redis's network for a target address: "unix" for a
// socket path, "tcp" otherwise.
func network(addr string) string {
	if strings.HasPrefix(addr, "/") {
		return "unix"
	}
	return "tcp"
}

// parsePopulations parses -population: "NAME=N[,NAME=N...]" where NAME is a
// target's name (kind and options, "file" or "file+nosync"). A target takes
// the entry of its name, else that of its kind, else -sessions.
func parsePopulations(s string) (map[string]int, error) {
	out := make(map[string]int)
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("-population %q: want NAME=N", part)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-population %q: want a positive number of sessions", part)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("-population: %s given twice", name)
		}
		out[name] = n
	}
	return out, nil
}

// population returns the number of sessions of spec.
func (o *options) population(spec targetSpec) int {
	if n, ok := o.Populations[spec.Name]; ok {
		return n
	}
	if n, ok := o.Populations[spec.Kind]; ok {
		return n
	}
	return o.Workload.Sessions
}
