package server

import "strings"

// COMMAND DOCS: one row per command (summary, group, syntax); the argument
// list of the reply is derived from the syntax, written as in Redis's
// documentation: "key field increment", "[NX|XX]", "[COUNT count]",
// "increment:double" (a type other than the name's default),
// "[WITHVALUES]", "key ...", "(key value) ...". redis-cli (7.2 and later)
// builds its hints from it.

type cmdDoc struct{ summary, group, syntax string }

var commandDocs = map[string]cmdDoc{
	"ping":            {"Returns the server's liveliness response.", "connection", "[message]"},
	"echo":            {"Returns the given string.", "connection", "message"},
	"hello":           {"Handshakes with the Redis server.", "connection", "[protover] [AUTH username password] [SETNAME clientname]"},
	"auth":            {"Authenticates the connection.", "connection", "[username] password"},
	"select":          {"Changes the selected database (only 0 exists).", "connection", "index"},
	"client":          {"A container for client connection commands.", "connection", "subcommand [arg ...]"},
	"info":            {"Returns information and statistics about the server.", "server", "[section ...]"},
	"command":         {"Returns detailed information about all commands.", "server", "[subcommand] [arg ...]"},
	"config":          {"A container for server configuration commands.", "server", "subcommand [arg ...]"},
	"quit":            {"Closes the connection.", "connection", ""},
	"reset":           {"Resets the connection.", "connection", ""},
	"time":            {"Returns the server time.", "server", ""},
	"slowlog":         {"A container for slow log commands.", "server", "subcommand [arg ...]"},
	"multi":           {"Starts a transaction.", "transactions", ""},
	"exec":            {"Executes all commands in a transaction.", "transactions", ""},
	"discard":         {"Discards a transaction.", "transactions", ""},
	"watch":           {"Monitors changes to keys to determine the execution of a transaction.", "transactions", "key ..."},
	"unwatch":         {"Forgets about watched keys of a transaction.", "transactions", ""},
	"subscribe":       {"Listens for messages published to channels.", "pubsub", "channel ..."},
	"psubscribe":      {"Listens for messages published to channels that match one or more patterns.", "pubsub", "pattern ..."},
	"unsubscribe":     {"Stops listening to messages posted to channels.", "pubsub", "[channel ...]"},
	"punsubscribe":    {"Stops listening to messages published to channels that match one or more patterns.", "pubsub", "[pattern ...]"},
	"publish":         {"Posts a message to a channel.", "pubsub", "channel message"},
	"pubsub":          {"A container for Pub/Sub commands.", "pubsub", "subcommand [arg ...]"},
	"wait":            {"Blocks until the backups hold the connection's last write.", "generic", "numreplicas timeout"},
	"object":          {"A container for object introspection commands.", "generic", "subcommand [arg ...]"},
	"memory":          {"A container for memory diagnostics commands.", "server", "subcommand [arg ...]"},
	"hset":            {"Creates or modifies the value of a field in a hash.", "hash", "key (field value) ..."},
	"hmset":           {"Sets the values of multiple fields.", "hash", "key (field value) ..."},
	"hget":            {"Returns the value of a field in a hash.", "hash", "key field"},
	"hmget":           {"Returns the values of all fields in a hash.", "hash", "key field ..."},
	"hgetall":         {"Returns all fields and values in a hash.", "hash", "key"},
	"hdel":            {"Deletes one or more fields and their values from a hash.", "hash", "key field ..."},
	"hexists":         {"Determines whether a field exists in a hash.", "hash", "key field"},
	"hlen":            {"Returns the number of fields in a hash.", "hash", "key"},
	"hkeys":           {"Returns all fields in a hash.", "hash", "key"},
	"hvals":           {"Returns all values in a hash.", "hash", "key"},
	"hstrlen":         {"Returns the length of the value of a field.", "hash", "key field"},
	"hincrby":         {"Increments the integer value of a field in a hash by a number.", "hash", "key field increment"},
	"hincrbyfloat":    {"Increments the floating point value of a field by a number.", "hash", "key field increment"},
	"hsetnx":          {"Sets the value of a field in a hash only when the field doesn't exist.", "hash", "key field value"},
	"hscan":           {"Iterates over fields and values of a hash.", "hash", "key cursor [MATCH pattern] [COUNT count] [NOVALUES]"},
	"hrandfield":      {"Returns one or more random fields from a hash.", "hash", "key [count] [WITHVALUES]"},
	"del":             {"Deletes one or more keys.", "generic", "key ..."},
	"unlink":          {"Deletes one or more keys.", "generic", "key ..."},
	"exists":          {"Determines whether one or more keys exist.", "generic", "key ..."},
	"type":            {"Determines the type of value stored at a key.", "generic", "key"},
	"expire":          {"Sets the expiration time of a key in seconds.", "generic", "key seconds [NX|XX|GT|LT]"},
	"pexpire":         {"Sets the expiration time of a key in milliseconds.", "generic", "key milliseconds [NX|XX|GT|LT]"},
	"expireat":        {"Sets the expiration time of a key to a Unix timestamp.", "generic", "key unix-time-seconds [NX|XX|GT|LT]"},
	"pexpireat":       {"Sets the expiration time of a key to a Unix milliseconds timestamp.", "generic", "key unix-time-milliseconds [NX|XX|GT|LT]"},
	"expiretime":      {"Returns the expiration time of a key as a Unix timestamp.", "generic", "key"},
	"pexpiretime":     {"Returns the expiration time of a key as a Unix milliseconds timestamp.", "generic", "key"},
	"ttl":             {"Returns the expiration time in seconds of a key.", "generic", "key"},
	"pttl":            {"Returns the expiration time in milliseconds of a key.", "generic", "key"},
	"persist":         {"Removes the expiration time of a key.", "generic", "key"},
	"touch":           {"Returns the number of existing keys out of those specified.", "generic", "key ..."},
	"rename":          {"Renames a key and overwrites the destination.", "generic", "key newkey"},
	"renamenx":        {"Renames a key only when the target key name doesn't exist.", "generic", "key newkey"},
	"copy":            {"Copies the value of a key to a new key.", "generic", "source destination [DB destination-db] [REPLACE]"},
	"randomkey":       {"Returns a random key name from the database.", "generic", ""},
	"keys":            {"Returns all key names that match a pattern.", "generic", "pattern"},
	"scan":            {"Iterates over the key names in the database.", "generic", "cursor [MATCH pattern] [COUNT count] [TYPE type]"},
	"dbsize":          {"Returns the number of keys in the database.", "server", ""},
	"flushall":        {"Removes all keys and globals.", "server", "[ASYNC|SYNC]"},
	"flushdb":         {"Removes all keys.", "server", "[ASYNC|SYNC]"},
	"get":             {"Returns the string value of a key.", "string", "key"},
	"set":             {"Sets the string value of a key.", "string", "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"},
	"setex":           {"Sets the string value and expiration time of a key.", "string", "key seconds value"},
	"psetex":          {"Sets the string value and expiration time in milliseconds of a key.", "string", "key milliseconds value"},
	"setnx":           {"Set the string value of a key only when the key doesn't exist.", "string", "key value"},
	"delex":           {"Deletes a string key if its value matches (or differs).", "string", "key [IFEQ|IFNE] [value]"},
	"mget":            {"Atomically returns the string values of one or more keys.", "string", "key ..."},
	"mset":            {"Atomically creates or modifies the string values of one or more keys.", "string", "(key value) ..."},
	"msetnx":          {"Atomically sets the values of keys only when none of them exist.", "string", "(key value) ..."},
	"incr":            {"Increments the integer value of a key by one.", "string", "key"},
	"incrby":          {"Increments the integer value of a key by a number.", "string", "key increment"},
	"incrbyfloat":     {"Increment the floating point value of a key by a number.", "string", "key increment"},
	"decr":            {"Decrements the integer value of a key by one.", "string", "key"},
	"decrby":          {"Decrements a number from the integer value of a key.", "string", "key decrement"},
	"append":          {"Appends a string to the value of a key.", "string", "key value"},
	"strlen":          {"Returns the length of a string value.", "string", "key"},
	"getdel":          {"Returns the string value of a key after deleting the key.", "string", "key"},
	"getex":           {"Returns the string value of a key after setting its expiration time.", "string", "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]"},
	"getrange":        {"Returns a substring of the string stored at a key.", "string", "key start end"},
	"setrange":        {"Overwrites a part of a string value with another by an offset.", "string", "key offset value"},
	"session.propset": {"Sets a prop of a session.", "session", "key prop value"},
	"session.propget": {"Returns a prop of a session.", "session", "key prop"},
	"session.props":   {"Returns every prop of a session.", "session", "key"},
	"session.propdel": {"Deletes a prop of a session.", "session", "key prop"},
	"session.clear":   {"Clears a session, keeping the named data keys.", "session", "key [retain ...]"},
	"session.expiry":  {"Sets a session's idle timeout and absolute TTL (ms).", "session", "key idle ttl"},
	"global.set":      {"Sets a global (Raft-replicated).", "global", "name value"},
	"global.get":      {"Returns a global.", "global", "name"},
	"global.del":      {"Deletes a global.", "global", "name"},
	"global.all":      {"Returns every global.", "global", ""},
	"global.keys":     {"Returns the names of the globals.", "global", ""},
	"grid.table":      {"Returns the partition table.", "grid", ""},
	"grid.owner":      {"Returns a key's partition and owner.", "grid", "key"},
	"grid.members":    {"Returns the grid's members.", "grid", ""},
	"grid.safe":       {"Says whether the grid is cluster-safe.", "grid", ""},
	"eval":            {"Executes a server-side Lua script.", "scripting", "script numkeys [key ...] [arg ...]"},
	"evalsha":         {"Executes a server-side Lua script by SHA1 digest.", "scripting", "sha1 numkeys [key ...] [arg ...]"},
	"eval_ro":         {"Executes a read-only server-side Lua script.", "scripting", "script numkeys [key ...] [arg ...]"},
	"evalsha_ro":      {"Executes a read-only server-side Lua script by SHA1 digest.", "scripting", "sha1 numkeys [key ...] [arg ...]"},
	"script":          {"A container for Lua scripts management commands.", "scripting", "subcommand [arg ...]"},
}

// docArg is one argument of a COMMAND DOCS reply.
type docArg struct {
	name, typ, token string
	optional, multi  bool
	sub              []docArg
}

// integerArgs name the arguments documented as integers.
var integerArgs = map[string]bool{
	"increment": true, "decrement": true, "count": true, "seconds": true, "milliseconds": true,
	"unix-time-seconds": true, "unix-time-milliseconds": true, "offset": true, "start": true, "end": true,
	"numreplicas": true, "timeout": true, "cursor": true, "index": true, "numkeys": true, "protover": true,
	"destination-db": true, "idle": true, "ttl": true,
}

// parseSyntax derives the arguments of a syntax line.
func parseSyntax(s string) []docArg {
	var out []docArg
	toks := strings.Fields(s)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "...":
			if len(out) > 0 {
				out[len(out)-1].multi = true
			}
		case strings.HasPrefix(t, "("): // (a b) ...: a block
			var words []string
			for ; i < len(toks); i++ {
				words = append(words, strings.Trim(toks[i], "()"))
				if strings.HasSuffix(toks[i], ")") {
					break
				}
			}
			out = append(out, docArg{name: "data", typ: "block", sub: parseSyntax(strings.Join(words, " "))})
		case strings.HasPrefix(t, "["): // [x], [X y], [A|B], [x ...]
			words := []string{strings.TrimPrefix(t, "[")}
			for !strings.HasSuffix(words[len(words)-1], "]") && i+1 < len(toks) {
				i++
				words = append(words, toks[i])
			}
			words[len(words)-1] = strings.TrimSuffix(words[len(words)-1], "]")
			inner := strings.Join(words, " ")
			var a docArg
			if strings.Contains(inner, "|") {
				a = docArg{name: "condition", typ: "oneof"}
				for _, alt := range strings.Split(inner, "|") {
					a.sub = append(a.sub, parseSyntax(alt)...)
				}
			} else {
				sub := parseSyntax(inner)
				if len(sub) == 1 {
					a = sub[0]
				} else {
					a = docArg{name: strings.ToLower(words[0]), typ: "block", sub: sub}
				}
			}
			a.optional = true
			out = append(out, a)
		case t != "" && strings.ToUpper(t) == t && strings.ToLower(t) != t: // a token
			if i+1 < len(toks) && strings.ToLower(toks[i+1]) == toks[i+1] && toks[i+1] != "..." &&
				!strings.ContainsAny(toks[i+1], "[]()") {
				a := docArg{name: toks[i+1], typ: argType(toks[i+1]), token: t}
				out = append(out, a)
				i++
				continue
			}
			out = append(out, docArg{name: strings.ToLower(t), typ: "pure-token", token: t})
		case t != "":
			name, _, _ := strings.Cut(t, ":")
			out = append(out, docArg{name: name, typ: argType(t)})
		}
	}
	return out
}

func argType(name string) string {
	switch {
	case strings.Contains(name, ":"):
		_, typ, _ := strings.Cut(name, ":")
		return typ
	case name == "key" || name == "newkey" || name == "source" || name == "destination":
		return "key"
	case integerArgs[name]:
		return "integer"
	case name == "pattern":
		return "pattern"
	}
	return "string"
}

// docs appends the COMMAND DOCS reply for the named commands (all when
// names is empty; unknown names are left out, as Redis does).
func (c *conn) docs(names [][]byte) {
	var ids []int
	if len(names) == 0 {
		for i := range c.s.table {
			ids = append(ids, i)
		}
	} else {
		for _, n := range names {
			if id := lookup(n); id >= 0 {
				ids = append(ids, id)
			}
		}
	}
	c.out.mapHeader(len(ids))
	for _, id := range ids {
		cmd := &c.s.table[id]
		d := cmd.doc
		c.out.bulkString(cmd.name)
		args := parseSyntax(d.syntax)
		n := 3
		if len(args) > 0 {
			n++
		}
		c.out.mapHeader(n)
		c.out.bulkString("summary")
		c.out.bulkString(d.summary)
		c.out.bulkString("since")
		c.out.bulkString("1.0.0")
		c.out.bulkString("group")
		group := d.group
		if group == "" {
			group = "generic"
		}
		c.out.bulkString(group)
		if len(args) > 0 {
			c.out.bulkString("arguments")
			c.docArgs(args)
		}
	}
}

func (c *conn) docArgs(args []docArg) {
	c.out.array(len(args))
	for _, a := range args {
		var flags []string
		if a.optional {
			flags = append(flags, "optional")
		}
		if a.multi {
			flags = append(flags, "multiple")
		}
		n := 2
		if a.token != "" {
			n++
		}
		if len(flags) > 0 {
			n++
		}
		if len(a.sub) > 0 {
			n++
		}
		c.out.mapHeader(n)
		c.out.bulkString("name")
		c.out.bulkString(a.name)
		c.out.bulkString("type")
		c.out.bulkString(a.typ)
		if a.token != "" {
			c.out.bulkString("token")
			c.out.bulkString(a.token)
		}
		if len(flags) > 0 {
			c.out.bulkString("flags")
			c.out.array(len(flags))
			for _, f := range flags {
				c.out.simple(f)
			}
		}
		if len(a.sub) > 0 {
			c.out.bulkString("arguments")
			c.docArgs(a.sub)
		}
	}
}
