package server

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Operations commands: WAIT, CLIENT KILL, INFO commandstats.

// Replicas is an optional capability of a Backend that replicates writes
// (a grid member): WAIT asks it.
type Replicas interface {
	// InSyncBackups returns how many synchronous backups of key's
	// partition hold every write of it acknowledged so far (a nil key: the
	// smallest such count over every partition). Called from connection
	// goroutines; it must not block.
	InSyncBackups(key []byte) int
}

// waitPoll is how often WAIT looks again at the backups while it blocks.
const waitPoll = 10 * time.Millisecond

// wait is WAIT numreplicas timeout: the number of backups holding the
// connection's last write. Writes are acknowledged only once every
// synchronous backup holds them, so that is the partition's count of
// synchronous backups in sync. Like Redis, it blocks until numreplicas is
// reached or the timeout (ms, 0 = forever) runs out; a standalone node
// answers 0 at once (unlike Redis, which would wait for replicas that can
// never come).
func (c *conn) wait(args [][]byte) {
	want, ok := parseLL(args[1])
	if !ok {
		c.out.error(msgNotInteger)
		return
	}
	ms, ok := parseLL(args[2])
	if !ok {
		c.out.error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.out.error("ERR timeout is negative")
		return
	}
	r, ok := c.s.backend.(Replicas)
	if !ok { // standalone: no backup will ever hold it, so no waiting
		c.out.int(0)
		return
	}
	count := func() int64 { return int64(r.InSyncBackups(c.lastWrite)) }
	n := count()
	if n >= want || c.id < 0 {
		c.out.int(n)
		return
	}
	var timeout <-chan time.Time
	if ms > 0 {
		t := time.NewTimer(time.Duration(min(ms, int64(time.Duration(1<<62)/time.Millisecond))) * time.Millisecond)
		defer t.Stop()
		timeout = t.C
	}
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	for n < want && !c.closing.Load() {
		select {
		case <-timeout:
			c.out.int(count())
			return
		case <-c.s.ctx.Done():
			c.out.int(n)
			return
		case <-tick.C:
			n = count()
		}
	}
	c.out.int(n)
}

// clientKill is CLIENT KILL ip:port, or CLIENT KILL with the filters ID,
// ADDR, LADDR, USER, SKIPME (yes by default) and TYPE normal.
func (c *conn) clientKill(args [][]byte) {
	if len(args) == 3 { // the old form: one address, an error when none
		addr := string(args[2])
		for _, t := range c.s.connections() {
			if t.nc.RemoteAddr().String() == addr {
				c.kill(t)
				c.out.ok()
				return
			}
		}
		c.out.error("ERR No such client")
		return
	}
	var (
		id          int64
		addr, laddr string
		skipMe      = true
		noType      bool // TYPE master|replica|pubsub: none of our clients
	)
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.syntaxError()
			return
		}
		v := string(args[i+1])
		switch strings.ToLower(string(args[i])) {
		case "id":
			n, ok := parseLL(args[i+1])
			if !ok || n <= 0 {
				c.out.error("ERR client-id should be greater than 0")
				return
			}
			id = n
		case "addr":
			addr = v
		case "laddr":
			laddr = v
		case "user":
			if v != "default" {
				c.out.error("ERR No such user '" + string(clip(args[i+1], 128)) + "'")
				return
			}
		case "type":
			switch strings.ToLower(v) {
			case "normal":
			case "master", "replica", "slave", "pubsub":
				noType = true
			default:
				c.out.error("ERR Unknown client type '" + string(clip(args[i+1], 128)) + "'")
				return
			}
		case "skipme":
			switch strings.ToLower(v) {
			case "yes":
				skipMe = true
			case "no":
				skipMe = false
			default:
				c.syntaxError()
				return
			}
		default:
			c.syntaxError()
			return
		}
	}
	killed := 0
	for _, t := range c.s.connections() {
		switch {
		case id != 0 && t.id != id,
			addr != "" && t.nc.RemoteAddr().String() != addr,
			laddr != "" && t.nc.LocalAddr().String() != laddr,
			noType,
			skipMe && t == c:
			continue
		}
		c.kill(t)
		killed++
	}
	c.out.int(int64(killed))
}

// kill closes t: at once for another connection, after this reply for c.
func (c *conn) kill(t *conn) {
	if t == c {
		c.quit = true
		return
	}
	t.closing.Store(true)
	t.nc.Close()
}

// connections returns the open connections.
func (s *Server) connections() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// cmdStats are the INFO commandstats counters of one command.
type cmdStats struct {
	calls, usec, failed, rejected atomic.Int64
}

// commandStats returns the INFO commandstats section's lines.
func (s *Server) commandStats() string {
	var b strings.Builder
	for i := range s.table {
		cmd := &s.table[i]
		calls := cmd.stats.calls.Load()
		rejected := cmd.stats.rejected.Load()
		if calls == 0 && rejected == 0 {
			continue
		}
		usec := cmd.stats.usec.Load()
		per := 0.0
		if calls > 0 {
			per = float64(usec) / float64(calls)
		}
		b.WriteString("cmdstat_" + cmd.name + ":calls=" + strconv.FormatInt(calls, 10) +
			",usec=" + strconv.FormatInt(usec, 10) + ",usec_per_call=" + strconv.FormatFloat(per, 'f', 2, 64) +
			",rejected_calls=" + strconv.FormatInt(rejected, 10) + ",failed_calls=" + strconv.FormatInt(cmd.stats.failed.Load(), 10) + "\r\n")
	}
	return b.String()
}

// subcommand checks the subcommand of a container command (OBJECT,
// MEMORY, SLOWLOG) and its arity (Redis's: n exact, -n at least n; 0 when
// any known subcommand reaching here has the wrong arity), and appends
// Redis's error when it fails.
func (c *conn) subcommand(container string, args [][]byte, arity int, known ...string) bool {
	sub := strings.ToLower(string(args[1]))
	for _, k := range known {
		if k != sub {
			continue
		}
		if arity == 0 || (arity > 0 && len(args) != arity) || len(args) < -arity {
			c.arityError(container + "|" + sub)
			return false
		}
		return true
	}
	c.out.error("ERR unknown subcommand '" + string(clip(args[1], 128)) + "'. Try " + strings.ToUpper(container) + " HELP.")
	return false
}
