package server

import (
	"crypto/subtle"
	"strconv"
	"strings"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/glob"
)

// Connection and server commands.

// redisVersion is the Redis version gridnode reports for compatibility:
// the command set it follows (Redis 7 replies, plus DELEX of Redis 8.4).
const redisVersion = "7.2.0"

func (c *conn) ping(args [][]byte) {
	if c.subscribedMode() { // RESP2 subscribed mode: a pong message
		c.out.array(2)
		c.out.bulkString("pong")
		if len(args) > 1 {
			c.out.bulk(args[1])
		} else {
			c.out.bulkString("")
		}
		return
	}
	switch len(args) {
	case 1:
		c.out.simple("PONG")
	case 2:
		c.out.bulk(args[1])
	default:
		c.arityError("ping")
	}
}

func (c *conn) echo(args [][]byte) { c.out.bulk(args[1]) }

func (c *conn) timeCmd([][]byte) {
	now := time.Now()
	c.out.array(2)
	c.out.bulkString(strconv.FormatInt(now.Unix(), 10))
	c.out.bulkString(strconv.Itoa(now.Nanosecond() / 1000))
}

// checkAuth reports whether user/pass are the configured credentials: the
// user "default" (or none) and Config.Password.
func (c *conn) checkAuth(user string, pass []byte) bool {
	if user != "default" {
		return false
	}
	return subtle.ConstantTimeCompare(pass, []byte(c.s.cfg.Password)) == 1
}

func (c *conn) setAuthed() {
	c.authed = true
	c.rd.unauth = false
}

func (c *conn) auth(args [][]byte) {
	if len(args) > 3 {
		c.syntaxError()
		return
	}
	if c.s.cfg.Password == "" {
		c.out.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		return
	}
	user := "default"
	if len(args) == 3 {
		user = string(args[1])
	}
	if !c.checkAuth(user, args[len(args)-1]) {
		c.authFailed()
		return
	}
	c.setAuthed()
	c.out.ok()
}

// hello is HELLO [protover [AUTH user pass] [SETNAME name]].
func (c *conn) hello(args [][]byte) {
	proto := int64(0)
	if len(args) > 1 {
		n, ok := parseInt(args[1])
		if !ok {
			c.out.error("ERR Protocol version is not an integer or out of range")
			return
		}
		if n != 2 && n != 3 {
			c.out.error("NOPROTO unsupported protocol version")
			return
		}
		proto = n
	}
	var user string
	var pass, name []byte
	hasAuth, hasName := false, false
	for i := 2; i < len(args); i++ {
		switch opt := strings.ToLower(string(args[i])); {
		case opt == "auth" && i+2 < len(args):
			hasAuth, user, pass = true, string(args[i+1]), args[i+2]
			i += 2
		case opt == "setname" && i+1 < len(args):
			hasName, name = true, args[i+1]
			i++
		default:
			c.out.error("ERR Syntax error in HELLO option '" + string(clip(args[i], 128)) + "'")
			return
		}
	}
	if hasName && !validClientName(name) {
		c.out.error("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	if hasAuth && c.s.cfg.Password != "" {
		if !c.checkAuth(user, pass) {
			c.authFailed()
			return
		}
		c.setAuthed()
	}
	if !c.authed {
		c.out.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if proto != 0 {
		c.setProto(int(proto))
	}
	if hasName {
		c.setName(name)
	}
	c.out.mapHeader(8)
	c.out.bulkString("server")
	c.out.bulkString("redis")
	c.out.bulkString("version")
	c.out.bulkString(redisVersion)
	c.out.bulkString("gridnode_version")
	c.out.bulkString(c.s.cfg.Version)
	c.out.bulkString("proto")
	c.out.int(int64(c.protoVersion()))
	c.out.bulkString("id")
	c.out.int(c.id)
	c.out.bulkString("mode")
	c.out.bulkString("standalone")
	c.out.bulkString("role")
	c.out.bulkString("master")
	c.out.bulkString("modules")
	c.out.array(0)
}

func (c *conn) setProto(p int) {
	c.out.resp3 = p == 3
	c.proto.Store(int32(p))
	if c.ps != nil {
		c.ps.mu.Lock()
		c.ps.proto3 = p == 3
		c.ps.mu.Unlock()
	}
}

func (c *conn) protoVersion() int {
	if c.out.resp3 {
		return 3
	}
	return 2
}

func (c *conn) setName(name []byte) {
	if len(name) == 0 {
		c.name.Store(nil)
		return
	}
	s := string(name)
	c.name.Store(&s)
}

// validClientName reports whether name has only printable ASCII without
// spaces, as Redis requires.
func validClientName(name []byte) bool {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func (c *conn) selectDB(args [][]byte) {
	n, ok := parseInt(args[1])
	switch {
	case !ok:
		c.out.error(msgNotInteger)
	case n != 0:
		c.out.error(msgOneDB)
	default:
		c.out.ok()
	}
}

func (c *conn) quitCmd([][]byte) {
	c.out.ok()
	c.quit = true
}

// reset is RESET: back to RESP2, no name, and not authenticated when a
// password is configured.
func (c *conn) reset([][]byte) {
	c.dropSubscriptions()
	c.discardTx()
	c.setProto(2)
	c.name.Store(nil)
	if c.s.cfg.Password != "" {
		c.authed = false
		c.rd.unauth = true
	}
	c.out.simple("RESET")
}

func (c *conn) client(args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "setname" && len(args) == 3:
		if !validClientName(args[2]) {
			c.out.error("ERR Client names cannot contain spaces, newlines or special characters.")
			return
		}
		c.setName(args[2])
		c.out.ok()
	case sub == "getname" && len(args) == 2:
		if p := c.name.Load(); p != nil {
			c.out.bulkString(*p)
		} else {
			c.out.null()
		}
	case sub == "setinfo" && len(args) == 4:
		v := string(args[3])
		switch strings.ToLower(string(args[2])) {
		case "lib-name":
			c.libName.Store(&v)
		case "lib-ver":
			c.libVer.Store(&v)
		default:
			c.out.error("ERR Unrecognized option '" + string(clip(args[2], 128)) + "'")
			return
		}
		c.out.ok()
	case sub == "kill" && len(args) >= 3:
		c.clientKill(args)
	case sub == "id" && len(args) == 2:
		c.out.int(c.id)
	case sub == "info" && len(args) == 2:
		c.out.bulkString(c.describe(time.Now()))
	case sub == "list" && len(args) == 2:
		c.out.bulkString(c.s.clientList())
	case (sub == "no-evict" || sub == "no-touch") && len(args) == 3:
		c.out.ok()
	case sub == "help":
		c.out.strings([]string{
			"CLIENT <subcommand> [<arg> ...]. Subcommands are:",
			"GETNAME", "SETNAME <name>", "SETINFO <LIB-NAME|LIB-VER> <value>",
			"ID", "INFO", "LIST", "NO-EVICT <ON|OFF>", "NO-TOUCH <ON|OFF>",
			"KILL <ip:port>", "KILL <option> <value> [<option> <value> [...]]",
			"    Options: ID <client-id>, ADDR <ip:port>, LADDR <ip:port>, USER default,",
			"    TYPE normal, SKIPME (YES|NO).",
		})
	default:
		c.out.error("ERR unknown subcommand or wrong number of arguments for '" +
			string(clip(args[1], 128)) + "'. Try CLIENT HELP.")
	}
}

// describe returns the CLIENT LIST line of c. Safe from any goroutine.
func (c *conn) describe(now time.Time) string {
	var b strings.Builder
	b.WriteString("id=")
	b.WriteString(strconv.FormatInt(c.id, 10))
	b.WriteString(" addr=")
	b.WriteString(c.nc.RemoteAddr().String())
	b.WriteString(" laddr=")
	b.WriteString(c.nc.LocalAddr().String())
	b.WriteString(" name=")
	if p := c.name.Load(); p != nil {
		b.WriteString(*p)
	}
	b.WriteString(" age=")
	b.WriteString(strconv.FormatInt(int64(now.Sub(c.created)/time.Second), 10))
	b.WriteString(" db=0 cmd=")
	if id := c.lastCmd.Load(); id >= 0 {
		b.WriteString(c.s.table[id].name)
	} else {
		b.WriteString("NULL")
	}
	b.WriteString(" resp=")
	b.WriteString(strconv.Itoa(int(c.proto.Load())))
	b.WriteString(" lib-name=")
	if p := c.libName.Load(); p != nil {
		b.WriteString(*p)
	}
	b.WriteString(" lib-ver=")
	if p := c.libVer.Load(); p != nil {
		b.WriteString(*p)
	}
	b.WriteString("\n")
	return b.String()
}

// clientList returns the CLIENT LIST text of every connection.
func (s *Server) clientList() string {
	now := time.Now()
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var b strings.Builder
	for _, c := range conns {
		b.WriteString(c.describe(now))
	}
	return b.String()
}

// command is COMMAND [COUNT | LIST | INFO name... | DOCS [name...]].
func (c *conn) command(args [][]byte) {
	if len(args) == 1 {
		c.out.array(numCommands)
		for i := range c.s.table {
			c.commandInfo(&c.s.table[i])
		}
		return
	}
	switch strings.ToLower(string(args[1])) {
	case "count":
		c.out.int(numCommands)
	case "list":
		c.out.array(numCommands)
		for i := range c.s.table {
			c.out.bulkString(c.s.table[i].name)
		}
	case "info":
		c.out.array(len(args) - 2)
		for _, name := range args[2:] {
			if id := lookup(name); id >= 0 {
				c.commandInfo(&c.s.table[id])
			} else {
				c.out.nullArray()
			}
		}
	case "docs":
		c.docs(args[2:])
	default:
		c.out.error("ERR unknown subcommand '" + string(clip(args[1], 128)) + "'. Try COMMAND HELP.")
	}
}

// commandInfo appends the COMMAND INFO reply of one command (Redis 7's
// ten fields).
func (c *conn) commandInfo(cmd *command) {
	c.out.array(10)
	c.out.bulkString(cmd.name)
	c.out.int(int64(cmd.arity))
	flags := flagNames(cmd.flags)
	c.out.setHeader(len(flags))
	for _, f := range flags {
		c.out.simple(f)
	}
	c.out.int(int64(cmd.first))
	c.out.int(int64(cmd.last))
	c.out.int(int64(cmd.step))
	c.out.setHeader(0) // ACL categories
	c.out.setHeader(0) // tips
	c.out.array(0)     // key specs
	c.out.array(0)     // subcommands
}

// config is CONFIG GET pattern...: a few read-only parameters that tools
// (redis-benchmark, redis-cli) ask for. CONFIG SET is refused: gridnode is
// configured by flags.
func (c *conn) config(args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "get" && len(args) >= 3:
		params := c.s.configParams()
		var out []string
		for _, p := range params {
			for _, pat := range args[2:] {
				if glob.Match(strings.ToLower(string(pat)), p[0]) {
					out = append(out, p[0], p[1])
					break
				}
			}
		}
		c.out.mapHeader(len(out) / 2)
		for _, s := range out {
			c.out.bulkString(s)
		}
	case sub == "set" && len(args) == 4 && strings.EqualFold(string(args[2]), "notify-keyspace-events"):
		flags, err := ParseKeyspaceEvents(string(args[3]))
		if err != nil {
			c.out.error("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - " + err.Error())
			return
		}
		c.s.notifier.flags.Store(int64(flags))
		c.out.ok()
	case sub == "set":
		c.out.error("ERR CONFIG SET is not supported except for notify-keyspace-events: gridnode is configured by its flags")
	case sub == "resetstat" && len(args) == 2:
		c.out.ok()
	default:
		c.out.error("ERR unknown subcommand or wrong number of arguments for '" +
			string(clip(args[1], 128)) + "'. Try CONFIG HELP.")
	}
}

// configParams lists the parameters CONFIG GET reports.
func (s *Server) configParams() [][2]string {
	return [][2]string{
		{"save", ""},
		{"appendonly", "no"},
		{"databases", "1"},
		{"maxclients", strconv.Itoa(s.cfg.MaxConnections)},
		{"timeout", strconv.FormatInt(int64(s.cfg.IdleTimeout/time.Second), 10)},
		{"proto-max-bulk-len", strconv.Itoa(s.cfg.MaxRequestBytes)},
		{"client-query-buffer-limit", strconv.Itoa(s.cfg.MaxRequestBytes)},
		{"notify-keyspace-events", keyspaceEventsString(int(s.notifier.flags.Load()))},
		{"client-output-buffer-limit", "normal 0 0 0 slave 0 0 0 pubsub " + strconv.Itoa(s.cfg.PubsubOutputLimit) + " 0 0"},
		{"slowlog-log-slower-than", strconv.FormatInt(slowlogMicros(s.cfg.SlowlogLogSlowerThan), 10)},
		{"slowlog-max-len", strconv.Itoa(max(s.cfg.SlowlogMaxLen, 0))},
	}
}
