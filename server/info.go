package server

import (
	"bytes"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// infoSections are the sections of INFO, in order.
var infoSections = []string{"server", "clients", "memory", "stats", "keyspace", "cluster"}

// info is INFO [section ...]: Redis's text format, "# Section" headers and
// field:value lines.
func (c *conn) info(args [][]byte) {
	want := map[string]bool{}
	for _, a := range args[1:] {
		switch sec := strings.ToLower(string(a)); sec {
		case "all", "default", "everything":
			for _, s := range infoSections {
				want[s] = true
			}
			if sec != "default" {
				want["commandstats"] = true
			}
		default:
			want[sec] = true
		}
	}
	if len(args) == 1 {
		for _, s := range infoSections {
			want[s] = true
		}
	}
	text := c.s.infoText(want)
	if want["commandstats"] {
		if text != "" {
			text += "\r\n"
		}
		text += "# Commandstats\r\n" + c.s.commandStats()
	}
	c.out.bulkString(text)
}

// infoText builds the INFO reply for the sections in want.
func (s *Server) infoText(want map[string]bool) string {
	var b strings.Builder
	field := func(name string, v any) {
		b.WriteString(name)
		b.WriteByte(':')
		switch v := v.(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case uint64:
			b.WriteString(strconv.FormatUint(v, 10))
		}
		b.WriteString("\r\n")
	}
	section := func(name string) bool {
		if !want[strings.ToLower(name)] {
			return false
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + name + "\r\n")
		return true
	}
	totals, open := s.totals()
	if section("Server") {
		uptime := time.Since(s.started)
		field("redis_version", redisVersion)
		field("gridnode_version", s.cfg.Version)
		field("redis_mode", "standalone")
		field("os", runtime.GOOS+" "+runtime.GOARCH)
		field("arch_bits", strconv.Itoa(strconv.IntSize))
		field("go_version", runtime.Version())
		field("process_id", os.Getpid())
		if addr := s.Addr(); addr != nil {
			if _, port, err := splitPort(addr.String()); err == nil {
				field("tcp_port", port)
			}
		}
		field("uptime_in_seconds", int64(uptime/time.Second))
		field("uptime_in_days", int64(uptime/(24*time.Hour)))
	}
	if section("Clients") {
		field("connected_clients", open)
		field("maxclients", s.cfg.MaxConnections)
		field("blocked_clients", 0)
	}
	if section("Memory") {
		heap, rss := memoryUse()
		field("used_memory", heap)
		field("used_memory_human", human(heap))
		field("used_memory_rss", rss)
		field("used_memory_rss_human", human(rss))
		if s.stats != nil {
			st := s.stats.Stats()
			field("used_memory_dataset", st.Bytes)
			field("used_memory_dataset_human", human(uint64(st.Bytes)))
		}
		field("mem_allocator", "go")
	}
	if section("Stats") {
		field("total_connections_received", s.accepted.Load())
		field("total_commands_processed", totals.commands)
		field("total_net_input_bytes", totals.in)
		field("total_net_output_bytes", totals.out)
		field("rejected_connections", s.rejected.Load())
		if s.stats != nil {
			field("expired_keys", s.stats.Stats().Expired)
		}
		channels, patterns := s.hub.counts()
		field("pubsub_channels", channels)
		field("pubsub_patterns", patterns)
		field("client_output_buffer_limit_disconnections", s.metrics.pubsubSlow.Load())
	}
	if section("Keyspace") {
		if s.stats != nil {
			st := s.stats.Stats()
			if st.Keys > 0 {
				field("db0", "keys="+strconv.Itoa(st.Keys)+",expires=0,avg_ttl=0,sessions="+
					strconv.Itoa(st.Sessions)+",strings="+strconv.Itoa(st.Strings))
			}
			field("globals", st.Globals)
		} else if n, err := s.backend.Len(s.ctx); err == nil && n > 0 {
			field("db0", "keys="+strconv.Itoa(n)+",expires=0,avg_ttl=0")
		}
	}
	if section("Cluster") {
		cl, ok := s.backend.(Cluster)
		field("cluster_enabled", map[bool]string{true: "1", false: "0"}[ok])
		if ok {
			st := cl.ClusterStatus(s.ctx)
			field("node_name", st.Self)
			field("partition_table_epoch", st.Epoch)
			field("partitions", st.Partitions)
			field("raft_state", st.RaftState)
			field("raft_leader", st.Leader)
			field("raft_voters", strings.Join(st.Voters, ","))
			field("raft_applied_index", st.AppliedIndex)
			field("backup_count", st.Backups)
			field("async_backup_count", st.AsyncBackups)
			safe := cl.ClusterSafe(s.ctx)
			field("cluster_safe", map[bool]string{true: "1", false: "0"}[safe.Safe])
			if !safe.Safe {
				field("cluster_safe_reason", safe.Reason)
			}
			field("partitions_short", safe.Short)
			field("partitions_migrating", safe.Migrating)
			field("backups_behind", safe.Behind)
			field("promotions", st.Promotions)
			field("backup_resyncs", st.Resyncs)
			field("migrations", st.Migrations)
			field("backup_bytes", st.BackupBytes)
			field("members", len(st.Members))
			for i, m := range st.Members {
				field("member"+strconv.Itoa(i), "name="+m.Name+",state="+m.State+",role="+m.Role+
					",client="+m.Client+",primaries="+strconv.Itoa(m.Primaries)+",backups="+strconv.Itoa(m.Backups)+
					",voter="+strconv.FormatBool(m.IsVoter)+",leader="+strconv.FormatBool(m.IsLeader))
			}
		}
	}
	return b.String()
}

func splitPort(hostport string) (string, string, error) {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return hostport, "", os.ErrInvalid
	}
	return hostport[:i], hostport[i+1:], nil
}

// memoryUse returns the bytes of live heap objects and the resident set
// size of the process (0 when it cannot be read).
func memoryUse() (heap, rss uint64) {
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(sample)
	if sample[0].Value.Kind() == rtmetrics.KindUint64 {
		heap = sample[0].Value.Uint64()
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := bytes.Fields(b); len(f) > 1 {
			if pages, err := strconv.ParseUint(string(f[1]), 10, 64); err == nil {
				rss = pages * uint64(os.Getpagesize())
			}
		}
	}
	return heap, rss
}

// human formats bytes as Redis's *_human fields do.
func human(n uint64) string {
	f := float64(n)
	for _, u := range []string{"B", "K", "M", "G", "T"} {
		if f < 1024 || u == "T" {
			if u == "B" {
				return strconv.FormatUint(n, 10) + "B"
			}
			return strconv.FormatFloat(f, 'f', 2, 64) + u
		}
		f /= 1024
	}
	return ""
}
