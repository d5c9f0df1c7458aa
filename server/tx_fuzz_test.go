package server

import (
	"bytes"
	"strings"
	"testing"
)

// txOps are the commands FuzzTx draws from; "%k" is a key chosen by the
// next input byte.
var txOps = [][]string{
	{"multi"}, {"exec"}, {"discard"}, {"watch", "%k"}, {"watch", "%k", "%k"}, {"unwatch"},
	{"set", "%k", "v"}, {"get", "%k"}, {"incr", "%k"}, {"del", "%k"}, {"hset", "%k", "f", "v"},
	{"foo"}, {"get"}, {"reset"}, {"eval", "return redis.call('incr', KEYS[1])", "1", "%k"},
	{"hello", "3"}, {"hello", "2"}, {"ping"}, {"exec", "x"}, {"multi", "x"}, {"expire", "%k", "0"},
	{"flushall"}, {"client", "setname", "n"}, {"discard", "x"}, {"watch"},
}

// decodeTxOps turns fuzz input into commands of txOps.
func decodeTxOps(input []byte) [][]string {
	var cmds [][]string
	for i := 0; i < len(input) && len(cmds) < 64; i++ {
		op := txOps[int(input[i])%len(txOps)]
		cmd := make([]string, len(op))
		for j, a := range op {
			if a == "%k" {
				i++
				k := byte(0)
				if i < len(input) {
					k = input[i]
				}
				a = string(rune('a' + k%3))
			}
			cmd[j] = a
		}
		cmds = append(cmds, cmd)
	}
	return cmds
}

// txModel is what a client must see of its connection's transaction
// state.
type txModel struct{ multi, failed bool }

// check returns what is wrong with reply, the reply to cmd, and advances
// the model.
func (m *txModel) check(cmd []string, reply string) string {
	is := func(want string) string {
		if reply != want {
			return "got " + reply + ", want " + want
		}
		return ""
	}
	switch name := cmd[0]; {
	case name == "reset":
		*m = txModel{}
		return is("+RESET\r\n")
	case name == "exec" && len(cmd) > 1:
		*m = txModel{}
		return is("-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n")
	case name == "foo" || len(cmd) == 1 && (name == "get" || name == "watch") || len(cmd) > 1 && (name == "multi" || name == "discard"):
		m.failed = m.failed || m.multi
		if !strings.HasPrefix(reply, "-ERR ") {
			return "got " + reply + ", want an error"
		}
		return ""
	case name == "multi":
		if m.multi {
			return is("-ERR MULTI calls can not be nested\r\n")
		}
		m.multi = true
		return is("+OK\r\n")
	case name == "exec":
		was := *m
		*m = txModel{}
		switch {
		case !was.multi:
			return is("-ERR EXEC without MULTI\r\n")
		case was.failed:
			return is("-EXECABORT Transaction discarded because of previous errors.\r\n")
		case reply == "*-1\r\n" || reply == "_\r\n" || strings.HasPrefix(reply, "*"):
			return ""
		}
		return "got " + reply + ", want an array or null"
	case name == "discard":
		if !m.multi {
			return is("-ERR DISCARD without MULTI\r\n")
		}
		*m = txModel{}
		return is("+OK\r\n")
	case name == "watch":
		if m.multi {
			return is("-ERR WATCH inside MULTI is not allowed\r\n")
		}
		return is("+OK\r\n")
	case m.multi:
		return is("+QUEUED\r\n")
	}
	return ""
}

// FuzzTx runs random sequences of MULTI/EXEC/DISCARD/WATCH/UNWATCH and
// data commands, checks each reply against the model of the connection's
// transaction state, and checks that RESET leaves nothing a later command
// can see: no transaction, no watch, the gate free.
func FuzzTx(f *testing.F) {
	for _, s := range []string{
		"\x00\x06\x01\x07\x01",         // MULTI SET EXEC GET
		"\x03\x00\x06\x00\x00\x01",     // WATCH a, SET a, MULTI, EXEC
		"\x00\x0b\x06\x00\x01",         // unknown command aborts
		"\x00\x00\x03\x00\x01",         // nested MULTI, WATCH inside MULTI
		"\x0f\x03\x01\x00\x08\x01\x01", // RESP3
		"\x00\x0e\x02\x0d\x01",         // EVAL queued, RESET
		"\x00\x12\x01\x02",             // EXEC x
		"\x03\x01\x15\x00\x01",         // WATCH, FLUSHALL
	} {
		f.Add([]byte(s))
	}
	fs := newFuzzServer(f, Config{})
	f.Fuzz(func(t *testing.T, input []byte) {
		cmds := decodeTxOps(input)
		// Then the probe: RESET, and a transaction that must see a clean
		// connection.
		probe := [][]string{{"reset"}, {"exec"}, {"discard"}, {"multi"}, {"set", "probe", "1"}, {"exec"}}
		var in bytes.Buffer
		for _, c := range append(cmds, probe...) {
			in.Write(encodeCommand(c))
		}
		c, out := fs.serve(in.Bytes())
		if panics := fs.catcher.take(); len(panics) > 0 {
			t.Fatalf("%q: %s", cmds, panics[0])
		}
		var m txModel
		for i, cmd := range cmds {
			n, e := validReply(out, 0)
			if e != "" {
				t.Fatalf("%q: reply %d (%v): %s in %q", cmds, i, cmd, e, out)
			}
			if msg := m.check(cmd, string(out[:n])); msg != "" {
				t.Fatalf("%q: command %d %v: %s", cmds, i, cmd, msg)
			}
			out = out[n:]
		}
		want := "+RESET\r\n-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n"
		if string(out) != want {
			t.Fatalf("%q: after RESET: %q, want %q", cmds, out, want)
		}
		if c.tx.multi || c.tx.failed || c.tx.queue != nil || c.tx.watches != nil || c.tx.partition != -1 || c.gateHeld {
			t.Fatalf("%q: state after the probe: %+v gateHeld=%v", cmds, c.tx, c.gateHeld)
		}
		for i := range fs.srv.scripts.gate.stripes {
			if !fs.srv.scripts.gate.stripes[i].TryLock() {
				t.Fatalf("%q: gate stripe %d left locked", cmds, i)
			}
			fs.srv.scripts.gate.stripes[i].Unlock()
		}
	})
}
