package server

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// The slow log: SLOWLOG GET|LEN|RESET|HELP, as Redis's. A command that
// runs longer than Config.SlowlogLogSlowerThan is recorded (its arguments
// cut as Redis cuts them); the log keeps the newest Config.SlowlogMaxLen.
// AUTH and HELLO are never recorded (they carry passwords).

// Defaults of the slow log (Redis's).
const (
	DefaultSlowlogLogSlowerThan = 10 * time.Millisecond
	DefaultSlowlogMaxLen        = 128
)

// Bounds of one recorded command (Redis's SLOWLOG_ENTRY_MAX_ARGC and
// SLOWLOG_ENTRY_MAX_STRING).
const (
	slowlogMaxArgs   = 32
	slowlogMaxString = 128
)

type slowEntry struct {
	id       int64
	at       int64 // Unix seconds
	duration int64 // microseconds
	args     []string
	addr     string
	name     string
}

// slowLog is a Server's slow log.
type slowLog struct {
	slower time.Duration // log commands slower than this; negative: never
	maxLen int

	mu      sync.Mutex  // guards entries and nextID
	entries []slowEntry // newest first
	nextID  int64
}

// record adds a command that ran for d, when it qualifies.
func (l *slowLog) record(c *conn, id int, args [][]byte, d time.Duration) {
	if l.slower < 0 || d <= l.slower || l.maxLen <= 0 || c.nc == nil || c.s.table[id].flags&flagNoSlowlog != 0 {
		return
	}
	e := slowEntry{at: time.Now().Unix(), duration: int64(d / time.Microsecond), addr: c.nc.RemoteAddr().String()}
	if p := c.name.Load(); p != nil {
		e.name = *p
	}
	n := min(len(args), slowlogMaxArgs)
	for i := 0; i < n; i++ {
		if i == slowlogMaxArgs-1 && len(args) > slowlogMaxArgs {
			e.args = append(e.args, "... ("+strconv.Itoa(len(args)-slowlogMaxArgs+1)+" more arguments)")
			break
		}
		a := args[i]
		if len(a) > slowlogMaxString {
			e.args = append(e.args, string(a[:slowlogMaxString])+"... ("+strconv.Itoa(len(a)-slowlogMaxString)+" more bytes)")
			continue
		}
		e.args = append(e.args, string(a))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, slowEntry{})
	copy(l.entries[1:], l.entries)
	l.entries[0] = e
	if len(l.entries) > l.maxLen {
		l.entries = l.entries[:l.maxLen]
	}
}

func (c *conn) slowlog(args [][]byte) {
	l := c.s.slowlog
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "get" && len(args) <= 3:
		count := int64(10)
		if len(args) == 3 {
			n, ok := parseLL(args[2])
			if !ok || n < -1 {
				c.out.error("ERR count should be greater than or equal to -1")
				return
			}
			count = n
		}
		l.mu.Lock()
		entries := l.entries
		if count >= 0 && int64(len(entries)) > count {
			entries = entries[:count]
		}
		entries = append([]slowEntry(nil), entries...)
		l.mu.Unlock()
		c.out.array(len(entries))
		for _, e := range entries {
			c.out.array(6)
			c.out.int(e.id)
			c.out.int(e.at)
			c.out.int(e.duration)
			c.out.strings(e.args)
			c.out.bulkString(e.addr)
			c.out.bulkString(e.name)
		}
	case sub == "len" && len(args) == 2:
		l.mu.Lock()
		n := len(l.entries)
		l.mu.Unlock()
		c.out.int(int64(n))
	case sub == "reset" && len(args) == 2:
		l.mu.Lock()
		l.entries = nil
		l.mu.Unlock()
		c.out.ok()
	case sub == "help" && len(args) == 2:
		c.out.strings([]string{
			"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET [<count>]",
			"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
			"    Entries are made of:",
			"    id, timestamp, time in microseconds, arguments array, client IP and port,",
			"    client name",
			"LEN", "    Return the length of the slowlog.",
			"RESET", "    Reset the slowlog.",
			"HELP", "    Print this help.",
		})
	default:
		c.subcommand("slowlog", args, 0, "get", "len", "reset", "help")
	}
}

// slowlogMicros is Config.SlowlogLogSlowerThan in Redis's unit
// (microseconds, -1 for never).
func slowlogMicros(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(d / time.Microsecond)
}
