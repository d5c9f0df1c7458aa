package server

import (
	"strings"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// Session-native commands (SESSION.*) and globals (GLOBAL.*).

func (c *conn) propset(args [][]byte) {
	if err := c.checkValue(args[3]); err != nil {
		c.storeError(err)
		return
	}
	if err := c.s.backend.SaveProp(c.bctx(), string(args[1]), string(args[2]), args[3]); err != nil {
		c.storeError(err)
		return
	}
	c.out.ok()
}

func (c *conn) propget(args [][]byte) {
	v, err := c.s.backend.GetProp(c.bctx(), string(args[1]), string(args[2]))
	c.valueReply(v, err)
}

func (c *conn) props(args [][]byte) {
	c.bytesMapReply(c.s.backend.Props(c.bctx(), string(args[1])))
}

func (c *conn) propdel(args [][]byte) {
	c.boolReply(c.s.backend.EvictProp(c.bctx(), string(args[1]), string(args[2])))
}

// clear is SESSION.CLEAR id [RETAIN key [key ...]].
func (c *conn) clear(args [][]byte) {
	var retain []string
	if len(args) > 2 {
		if !strings.EqualFold(string(args[2]), "retain") || len(args) == 3 {
			c.syntaxError()
			return
		}
		retain = make([]string, 0, len(args)-3)
		for _, k := range args[3:] {
			retain = append(retain, string(k))
		}
		for _, k := range retain {
			if err := session.ValidateKey(k); err != nil {
				c.storeError(err)
				return
			}
		}
	}
	existed, err := c.s.backend.Clear(c.bctx(), string(args[1]), retain...)
	if err != nil {
		c.storeError(err)
		return
	}
	if existed && len(retain) == 0 {
		c.notify(notifyGeneric, "del", string(args[1]))
	}
	c.out.bool(existed)
}

// expiry is SESSION.EXPIRY id idle-ms ttl-ms: idle-ms 0 keeps the idle
// timeout, negative disables it, positive sets it; ttl-ms 0 removes the
// absolute deadline, positive sets it from now.
func (c *conn) expiry(args [][]byte) {
	idle, ok1 := parseInt(args[2])
	ttl, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.out.error(msgNotInteger)
		return
	}
	const maxMS = int64(1<<63-1) / int64(time.Millisecond)
	if ttl < 0 || idle > maxMS || ttl > maxMS {
		c.out.error("ERR invalid expire time in 'session.expiry' command")
		return
	}
	e := session.Expiry{Idle: time.Duration(idle) * time.Millisecond, TTL: time.Duration(ttl) * time.Millisecond}
	if idle < 0 {
		e.Idle = session.NoExpiry
	}
	c.existedReply(c.s.backend.SetExpiry(c.bctx(), string(args[1]), e))
}

func (c *conn) globalSet(args [][]byte) {
	if err := c.checkValue(args[2]); err != nil {
		c.storeError(err)
		return
	}
	if err := c.s.backend.SaveGlobal(c.bctx(), string(args[1]), args[2]); err != nil {
		c.storeError(err)
		return
	}
	c.out.ok()
}

func (c *conn) globalGet(args [][]byte) {
	v, err := c.s.backend.GetGlobal(c.bctx(), string(args[1]))
	c.valueReply(v, err)
}

func (c *conn) globalDel(args [][]byte) {
	c.boolReply(c.s.backend.EvictGlobal(c.bctx(), string(args[1])))
}

func (c *conn) globalAll([][]byte) {
	c.bytesMapReply(c.s.backend.Globals(c.bctx()))
}

func (c *conn) globalKeys([][]byte) {
	m, err := c.s.backend.Globals(c.bctx())
	if err != nil {
		c.storeError(err)
		return
	}
	c.out.strings(sortedKeys(m))
}
