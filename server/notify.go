package server

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/sessiongrid/sessiongrid/session"
)

// Keyspace notification classes: Redis's letters of
// notify-keyspace-events.
const (
	notifyKeyspace = 1 << iota // K: __keyspace@0__:<key> <event>
	notifyKeyevent             // E: __keyevent@0__:<event> <key>
	notifyGeneric              // g: DEL, EXPIRE, PERSIST, ...
	notifyString               // $
	notifyList                 // l
	notifySet                  // s
	notifyHash                 // h
	notifyZset                 // z
	notifyExpired              // x
	notifyEvicted              // e
	notifyStream               // t
	notifyKeyMiss              // m
	notifyModule               // d
	notifyNew                  // n
)

// notifyAll is Redis's 'A': every class but m and n.
const notifyAll = notifyGeneric | notifyString | notifyList | notifySet | notifyHash |
	notifyZset | notifyExpired | notifyEvicted | notifyStream | notifyModule

// ParseKeyspaceEvents parses Redis's notify-keyspace-events letters
// ("KEA", "Ex", "" for none) and reports a letter Redis does not know.
func ParseKeyspaceEvents(s string) (int, error) {
	flags := 0
	for _, ch := range s {
		switch ch {
		case 'A':
			flags |= notifyAll
		case 'g':
			flags |= notifyGeneric
		case '$':
			flags |= notifyString
		case 'l':
			flags |= notifyList
		case 's':
			flags |= notifySet
		case 'h':
			flags |= notifyHash
		case 'z':
			flags |= notifyZset
		case 'x':
			flags |= notifyExpired
		case 'e':
			flags |= notifyEvicted
		case 'K':
			flags |= notifyKeyspace
		case 'E':
			flags |= notifyKeyevent
		case 't':
			flags |= notifyStream
		case 'm':
			flags |= notifyKeyMiss
		case 'd':
			flags |= notifyModule
		case 'n':
			flags |= notifyNew
		default:
			return 0, fmt.Errorf("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
		}
	}
	return flags, nil
}

// keyspaceEventsString renders flags as Redis's CONFIG GET does.
func keyspaceEventsString(flags int) string {
	var b strings.Builder
	if flags&notifyAll == notifyAll {
		b.WriteByte('A')
	} else {
		for _, f := range []struct {
			bit int
			ch  byte
		}{{notifyGeneric, 'g'}, {notifyString, '$'}, {notifyList, 'l'}, {notifySet, 's'}, {notifyHash, 'h'},
			{notifyZset, 'z'}, {notifyExpired, 'x'}, {notifyEvicted, 'e'}, {notifyStream, 't'}, {notifyModule, 'd'}} {
			if flags&f.bit != 0 {
				b.WriteByte(f.ch)
			}
		}
	}
	if flags&notifyKeyspace != 0 {
		b.WriteByte('K')
	}
	if flags&notifyKeyevent != 0 {
		b.WriteByte('E')
	}
	if flags&notifyKeyMiss != 0 {
		b.WriteByte('m')
	}
	if flags&notifyNew != 0 {
		b.WriteByte('n')
	}
	return b.String()
}

// notifier holds the classes in force (CONFIG SET changes them at run time).
type notifier struct{ flags atomic.Int64 }

// notify publishes a keyspace event of class about key, as Redis's
// notifyKeyspaceEvent: on __keyspace@0__:<key> (K) the event name, on
// __keyevent@0__:<event> (E) the key. Like PUBLISH it reaches the
// subscribers of every member, once: it is called on the member that
// decided the event (the one that ran the command, or the partition's
// primary for an expiry).
func (s *Server) notify(self *conn, class int, event, key string) {
	flags := int(s.notifier.flags.Load())
	if flags&class == 0 || flags&(notifyKeyspace|notifyKeyevent) == 0 {
		return
	}
	if flags&notifyKeyspace != 0 {
		s.publish([]byte("__keyspace@0__:"+key), []byte(event), self)
	}
	if flags&notifyKeyevent != 0 {
		s.publish([]byte("__keyevent@0__:"+event), []byte(key), self)
	}
}

// notify publishes a keyspace event of c's command.
func (c *conn) notify(class int, event, key string) { c.s.notify(c, class, event, key) }

// storeEvent turns the backend's expiries (session.Watcher) into
// "expired" notifications. It runs under the store's locks: publishing
// only queues.
func (s *Server) storeEvent(e session.Event) {
	if e.Type == session.EventExpired {
		s.notify(nil, notifyExpired, "expired", e.ID)
	}
}

// notifying reports whether events of class are published now.
func (s *Server) notifying(class int) bool {
	flags := int(s.notifier.flags.Load())
	return flags&class != 0 && flags&(notifyKeyspace|notifyKeyevent) != 0
}

// delNotify is DEL with generic notifications on: one delete per key, so
// that each key removed gets its "del" event.
func (c *conn) delNotify(keys []string) {
	total := 0
	for _, k := range keys {
		n, ok := c.deleteKey(k)
		if !ok {
			return
		}
		total += n
	}
	c.out.int(int64(total))
}

// deleteKey deletes key and publishes its "del" event when it existed. On
// error it has appended the error reply.
func (c *conn) deleteKey(key string) (n int, ok bool) {
	n, err := c.s.backend.Delete(c.bctx(), key)
	if err != nil {
		c.storeError(err)
		return 0, false
	}
	if n > 0 {
		c.notify(notifyGeneric, "del", key)
	}
	return n, true
}

// notifyIfGone publishes "del" when key no longer exists (a hash whose
// last field went).
func (c *conn) notifyIfGone(key string) {
	if !c.s.notifying(notifyGeneric) {
		return
	}
	if kind, err := c.s.backend.KindOf(c.bctx(), key); err == nil && kind == session.KindNone {
		c.notify(notifyGeneric, "del", key)
	}
}

// ExpiredMessages calls publish with the keyspace notifications of an
// expiry of key under the classes flags (ParseKeyspaceEvents): what a
// server publishes, for a member without a server (an embedded peer) that
// decides expiries.
func ExpiredMessages(flags int, key string, publish func(channel, message []byte)) {
	if flags&notifyExpired == 0 {
		return
	}
	if flags&notifyKeyspace != 0 {
		publish([]byte("__keyspace@0__:"+key), []byte("expired"))
	}
	if flags&notifyKeyevent != 0 {
		publish([]byte("__keyevent@0__:expired"), []byte(key))
	}
}
