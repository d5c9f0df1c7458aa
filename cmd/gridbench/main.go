package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gridbench:", err)
		os.Exit(1)
	}
}

// parseFlags turns the command line into options.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{Workload: defaultWorkload()}
	fs := flag.NewFlagSet("gridbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: gridbench [flags]\n\nRuns the chatbot workload against the session backends (memory, file, bolt, cache,\nredisstore), gridnode (remote) and any RESP server (redis), side by side.\n\n")
		fs.PrintDefaults()
	}
	targets := fs.String("targets", "", targetUsage)
	kind := fs.String("target", "", "one target: a kind of -targets without '=' (memory, file+nosync, ...); remote, redis and redisstore take -addr")
	addr := fs.String("addr", "127.0.0.1:6379", "server address for -target remote, redis or redisstore")
	fs.IntVar(&o.Clients, "clients", 20, "concurrent simulated bot workers")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time per target, over all rounds")
	fs.Int64Var(&o.Messages, "messages", 0, "process exactly this many messages per target instead of running for -duration")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured run time at the start of every round (not with -messages)")
	fs.IntVar(&o.Rounds, "rounds", 1, "split each target's -duration or -messages into this many rounds, interleaved across targets")
	fs.IntVar(&o.Workload.Sessions, "sessions", o.Workload.Sessions, "population of users (sessions) of every target")
	pops := fs.String("population", "", "per-target populations overriding -sessions, NAME=N[,NAME=N...]; NAME is a target's kind with its options\n"+
		"(file+nosync) or just its kind (file), e.g. -population file=2000 for slow targets")
	fs.Float64Var(&o.Workload.Zipf, "zipf", o.Workload.Zipf, "Zipf exponent s (> 1) of the user distribution")
	seed := fs.Uint64("seed", 1, "random seed")
	fs.StringVar(&o.JSONPath, "json", "", "write the results as JSON to this file")
	fs.BoolVar(&o.Preload, "preload", true, "write every session before measuring (false: sessions are created by their first message)")
	fs.BoolVar(&o.Cleanup, "cleanup", true, "delete the benchmark's sessions afterwards from servers and from a DIR or PATH given to file or bolt (temporary ones are removed whole)")
	fs.StringVar(&o.Workload.Prefix, "prefix", o.Workload.Prefix, "prefix of session ids")
	fs.IntVar(&o.Workload.HistoryMax, "history", o.Workload.HistoryMax, "message ids kept in the history (pywce 100, jawce 10)")
	fs.Float64Var(&o.Workload.PropRate, "prop-rate", o.Workload.PropRate, "fraction of messages with a prop read and write")
	fs.Float64Var(&o.Workload.CheckpointRate, "checkpoint-rate", o.Workload.CheckpointRate, "fraction of messages saving a checkpoint")
	fs.Float64Var(&o.Workload.RetryRate, "retry-rate", o.Workload.RetryRate, "fraction of messages answered with a Retry button")
	fs.Float64Var(&o.Workload.ClearRate, "clear-rate", o.Workload.ClearRate, "fraction of messages finding the session timed out (Clear)")
	fs.StringVar(&o.Password, "password", "", "password of the servers (AUTH)")
	fs.IntVar(&o.RESP, "resp", 2, "RESP version for remote and redis targets: 2 or 3 (3 costs the client a socket peek per command)")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Second, "read and write timeout of one operation")
	fs.DurationVar(&o.RedisIdle, "redis-idle", 30*time.Minute, "redis target: re-arm this idle expiry with PEXPIRE on every write (0: none)")
	fs.Int64Var(&o.MaxErrors, "max-errors", 100, "stop a target after this many failed messages")
	fs.BoolVar(&o.Progress, "progress", true, "print a progress line every second on stderr")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of gridbench itself to this file")
	fs.BoolVar(&o.Verbose, "v", false, "log the remote client's retries and connection events on stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	o.Seed = *seed
	var err error
	switch {
	case *targets != "" && *kind != "":
		return o, errors.New("give -targets or -target, not both")
	case *targets != "":
		o.Targets, err = parseTargets(*targets)
	case *kind == "":
		return o, errors.New("no target: give -target memory|remote|redis or -targets")
	default:
		k, _, _ := strings.Cut(*kind, "+")
		if info, ok := kinds[k]; ok && info.arg == "addr" {
			o.Targets, err = parseTargets(*kind + "=" + *addr)
		} else {
			o.Targets, err = parseTargets(*kind)
		}
	}
	if err != nil {
		return o, err
	}
	if o.Populations, err = parsePopulations(*pops); err != nil {
		return o, err
	}
	if err := o.Workload.validate(); err != nil {
		return o, err
	}
	if o.Clients < 1 {
		return o, fmt.Errorf("-clients must be at least 1, got %d", o.Clients)
	}
	for name := range o.Populations {
		if !slices.ContainsFunc(o.Targets, func(s targetSpec) bool { return s.Name == name || s.Kind == name }) {
			return o, fmt.Errorf("-population: no target named %q", name)
		}
	}
	for _, spec := range o.Targets {
		if n := o.population(spec); o.Clients > n {
			return o, fmt.Errorf("-clients (%d) must not exceed the population of %s (%d): a user's messages run one at a time", o.Clients, spec.Label, n)
		}
	}
	switch {
	case o.Messages < 0:
		return o, fmt.Errorf("-messages must not be negative, got %d", o.Messages)
	case o.Messages == 0 && o.Duration <= 0:
		return o, fmt.Errorf("-duration must be positive, got %v", o.Duration)
	case o.Rounds < 1:
		return o, fmt.Errorf("-rounds must be at least 1, got %d", o.Rounds)
	case o.Messages > 0 && o.Messages < int64(o.Rounds):
		return o, fmt.Errorf("-messages (%d) must be at least -rounds (%d)", o.Messages, o.Rounds)
	case o.Warmup < 0:
		return o, fmt.Errorf("-warmup must not be negative, got %v", o.Warmup)
	case o.RESP != 2 && o.RESP != 3:
		return o, fmt.Errorf("-resp must be 2 or 3, got %d", o.RESP)
	case o.Timeout <= 0:
		return o, fmt.Errorf("-timeout must be positive, got %v", o.Timeout)
	case o.MaxErrors < 0:
		return o, fmt.Errorf("-max-errors must not be negative, got %d", o.MaxErrors)
	}
	return o, nil
}

// run is the whole command; main only wires the process to it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.Verbose {
		o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	rep := newReport(o, append([]string{"gridbench"}, args...), time.Now())
	var progress io.Writer
	if o.Progress {
		progress = stderr
	}
	var failed []error
	var benches []*bench
	for i, spec := range o.Targets {
		if ctx.Err() != nil {
			break
		}
		// Each target gets its own ids (prefix "gb:t1:" ...), so that two
		// targets on one server never share keys.
		w := o.Workload
		w.Sessions = o.population(spec)
		pop := newPopulation(&w, fmt.Sprintf("%st%d:", w.Prefix, i+1))
		b, err := newBench(ctx, spec, o, &w, pop, progress)
		if err != nil {
			fmt.Fprintf(stderr, "gridbench: %v\n", err)
			failed = append(failed, err)
			continue
		}
		benches = append(benches, b)
	}
	// Rounds interleave the targets, so that a machine whose load drifts
	// (other processes, thermal limits) weighs on every target alike.
	live := make([]bool, len(benches))
	for i := range live {
		live[i] = true
	}
	for r := range o.Rounds {
		for i, b := range benches {
			if !live[i] || ctx.Err() != nil {
				continue
			}
			dur := o.Duration / time.Duration(o.Rounds)
			msgs := o.Messages / int64(o.Rounds)
			if r == o.Rounds-1 {
				msgs = o.Messages - msgs*int64(o.Rounds-1)
			}
			if err := b.round(ctx, o, dur, msgs, progress); err != nil && ctx.Err() == nil {
				fmt.Fprintf(stderr, "gridbench: %v\n", err)
				failed = append(failed, err)
				live[i] = false
			}
		}
	}
	for i, b := range benches {
		if err := b.finish(o); err != nil {
			fmt.Fprintf(stderr, "gridbench: %v\n", err)
			failed = append(failed, err)
		}
		if !live[i] || b.res.Rounds == 0 {
			continue
		}
		res := b.result()
		rep.Results = append(rep.Results, res)
		printResult(stdout, res)
	}
	if len(rep.Results) > 1 {
		printComparison(stdout, rep.Results)
	}
	if o.JSONPath != "" {
		if err := writeJSON(o.JSONPath, rep); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(failed...)
}
