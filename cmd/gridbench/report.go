package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// result is what one target measured. Latencies are in microseconds.
type result struct {
	Target              string             `json:"target"`
	Kind                string             `json:"kind"`
	Addr                string             `json:"addr,omitempty"`
	Path                string             `json:"path,omitempty"`
	Settings            string             `json:"settings"`
	Clients             int                `json:"clients"`
	Sessions            int                `json:"sessions"`
	PreloadSeconds      float64            `json:"preload_s,omitempty"`
	Rounds              int                `json:"rounds"`
	Seconds             float64            `json:"measured_s"`
	Messages            uint64             `json:"messages"`
	MessagesPerSec      float64            `json:"messages_per_s"`
	Ops                 uint64             `json:"ops"`
	OpsPerSec           float64            `json:"ops_per_s"`
	OpsPerMessage       float64            `json:"ops_per_message"`
	Errors              uint64             `json:"errors"`
	FirstError          string             `json:"first_error,omitempty"`
	Redraws             uint64             `json:"busy_user_redraws"`
	DistinctUsers       int                `json:"distinct_users"`
	ClientCPUPerMessage float64            `json:"client_cpu_us_per_message"`
	ServerPID           int                `json:"server_pid,omitempty"`
	ServerCPUPerMessage float64            `json:"server_cpu_us_per_message,omitempty"`
	ServerCPUPerOp      float64            `json:"server_cpu_us_per_op,omitempty"`
	Message             latency            `json:"message_latency_us"`
	PerOp               map[string]latency `json:"op_latency_us"`
	// Notes are what the store said about itself after the run.
	Notes []string `json:"notes,omitempty"`
}

// latency summarises one histogram, in microseconds.
type latency struct {
	Count  uint64  `json:"count"`
	Errors uint64  `json:"errors,omitempty"`
	Mean   float64 `json:"mean"`
	P50    float64 `json:"p50"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p99_9"`
	Max    float64 `json:"max"`
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func statsOf(h *histogram) latency {
	return latency{
		Count: h.n,
		Mean:  micros(h.mean()),
		P50:   micros(h.quantile(0.50)),
		P99:   micros(h.quantile(0.99)),
		P999:  micros(h.quantile(0.999)),
		Max:   micros(time.Duration(h.max)),
	}
}

// report is the JSON document -json writes.
type report struct {
	Started    time.Time `json:"started"`
	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	NumCPU     int       `json:"num_cpu"`
	Command    []string  `json:"command"`
	Config     struct {
		Clients        int            `json:"clients"`
		Duration       string         `json:"duration,omitempty"`
		Warmup         string         `json:"warmup,omitempty"`
		Rounds         int            `json:"rounds"`
		Messages       int64          `json:"messages,omitempty"`
		Sessions       int            `json:"sessions"`
		Populations    map[string]int `json:"populations,omitempty"`
		Zipf           float64        `json:"zipf"`
		Seed           uint64         `json:"seed"`
		Preload        bool           `json:"preload"`
		HistoryMax     int            `json:"history_max"`
		PropRate       float64        `json:"prop_rate"`
		CheckpointRate float64        `json:"checkpoint_rate"`
		RetryRate      float64        `json:"retry_rate"`
		ClearRate      float64        `json:"clear_rate"`
		RESP           int            `json:"resp"`
		RedisIdle      string         `json:"redis_idle"`
	} `json:"config"`
	Results []*result `json:"results"`
}

func newReport(o options, args []string, started time.Time) *report {
	r := &report{Started: started, GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), Command: args}
	c := &r.Config
	c.Clients, c.Sessions, c.Zipf, c.Seed, c.Preload = o.Clients, o.Workload.Sessions, o.Workload.Zipf, o.Seed, o.Preload
	c.Rounds, c.Populations = o.Rounds, o.Populations
	if o.Messages > 0 {
		c.Messages = o.Messages
	} else {
		c.Duration, c.Warmup = o.Duration.String(), o.Warmup.String()
	}
	c.HistoryMax, c.PropRate, c.CheckpointRate = o.Workload.HistoryMax, o.Workload.PropRate, o.Workload.CheckpointRate
	c.RetryRate, c.ClearRate, c.RESP, c.RedisIdle = o.Workload.RetryRate, o.Workload.ClearRate, o.RESP, o.RedisIdle.String()
	return r
}

func writeJSON(path string, r *report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// printResult prints one target's figures with a line per operation.
func printResult(w io.Writer, r *result) {
	fmt.Fprintf(w, "\n== %s: %d clients, %d sessions, %.1fs measured in %d round(s)\n", r.Target, r.Clients, r.Sessions, r.Seconds, r.Rounds)
	fmt.Fprintf(w, "messages %d (%.0f/s), ops %d (%.0f/s, %.1f per message), errors %d, users %d, busy redraws %d\n",
		r.Messages, r.MessagesPerSec, r.Ops, r.OpsPerSec, r.OpsPerMessage, r.Errors, r.DistinctUsers, r.Redraws)
	cpu := fmt.Sprintf("client CPU %.1f µs/message", r.ClientCPUPerMessage)
	if r.ServerPID > 0 {
		cpu += fmt.Sprintf(", server CPU %.1f µs/message, %.2f µs/op (pid %d)", r.ServerCPUPerMessage, r.ServerCPUPerOp, r.ServerPID)
	}
	fmt.Fprintln(w, cpu)
	fmt.Fprintf(w, "settings: %s\n", r.Settings)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "after the run: %s\n", n)
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tcount\terrors\tmean µs\tp50 µs\tp99 µs\tp99.9 µs\tmax µs\t")
	row := func(name string, l latency) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t\n", name, l.Count, l.Errors, l.Mean, l.P50, l.P99, l.P999, l.Max)
	}
	row("message", r.Message)
	for _, name := range opNames {
		if l, ok := r.PerOp[name]; ok {
			row(name, l)
		}
	}
	tw.Flush()
}

// printComparison prints the targets side by side, with throughput and
// p99 ratios to the first target.
func printComparison(w io.Writer, rs []*result) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n== comparison (ratios against %s)\n", rs[0].Target)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tsessions\tmsg/s\tratio\tops/s\tmsg p50 µs\tmsg p99 µs\tmsg p99.9 µs\tget p99 µs\tsave p99 µs\tp99 ratio\tsrv CPU µs/msg\tcli CPU µs/msg\terrors\t")
	base := rs[0]
	for _, r := range rs {
		srv := "-"
		if r.ServerPID > 0 {
			srv = fmt.Sprintf("%.1f", r.ServerCPUPerMessage)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t%.1f\t%d\t\n",
			r.Target, r.Sessions, r.MessagesPerSec, ratio(r.MessagesPerSec, base.MessagesPerSec), r.OpsPerSec,
			r.Message.P50, r.Message.P99, r.Message.P999, r.PerOp["get"].P99, r.PerOp["save"].P99,
			ratio(r.Message.P99, base.Message.P99), srv, r.ClientCPUPerMessage, r.Errors)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n== settings\n")
	for _, r := range rs {
		fmt.Fprintf(w, "%s: %s\n", r.Target, r.Settings)
	}
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", a/b), "0"), ".") + "x"
}
