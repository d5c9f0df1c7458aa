package server

import (
	"slices"
	"strings"

	"github.com/sessiongrid/sessiongrid/internal/glob"
)

// Pub/Sub commands. Subscriptions are this member's; PUBLISH reaches the
// subscribers of every member (Broadcaster) and counts this member's.

// msgSubscribedMode is Redis 7's refusal of a command in RESP2 subscribed
// mode (after the command name).
const msgSubscribedMode = "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"

// subscribedMode reports whether the connection is in RESP2 subscribed
// mode, where only flagPubsub commands run.
func (c *conn) subscribedMode() bool {
	return c.ps != nil && !c.out.resp3 && c.ps.count() > 0
}

func (c *conn) subscribe(args [][]byte)   { c.subscribeTo(args[1:], false) }
func (c *conn) psubscribe(args [][]byte)  { c.subscribeTo(args[1:], true) }
func (c *conn) unsubscribe(args [][]byte) { c.unsubscribeFrom(args[1:], false) }
func (c *conn) punsubscribe(args [][]byte) {
	c.unsubscribeFrom(args[1:], true)
}

// subscribeTo subscribes to names (channels or patterns). Each reply is
// queued, under the subscriber's lock, together with the subscription, so
// no message of a channel reaches the client before its reply.
func (c *conn) subscribeTo(names [][]byte, pattern bool) {
	if c.id < 0 {
		c.out.error("ERR This Redis command is not allowed from script")
		return
	}
	sub := c.subscriber()
	kind, set, reg := "subscribe", sub.channels, c.s.hub.channels
	if pattern {
		kind, set, reg = "psubscribe", sub.patterns, c.s.hub.patterns
	}
	for _, b := range names {
		name := string(b)
		sub.mu.Lock()
		_, had := set[name]
		set[name] = struct{}{}
		n := len(sub.channels) + len(sub.patterns)
		c.out.push(3)
		c.out.bulkString(kind)
		c.out.bulkString(name)
		c.out.int(int64(n))
		sub.enqueueLocked(c.out.b)
		c.out.b = c.out.b[:0]
		sub.mu.Unlock()
		if !had {
			c.s.hub.add(reg, name, sub)
		}
	}
}

// unsubscribeFrom removes names, or every subscription of the kind when
// names is empty (one reply each, or one with a null name when none).
func (c *conn) unsubscribeFrom(names [][]byte, pattern bool) {
	if c.id < 0 {
		c.out.error("ERR This Redis command is not allowed from script")
		return
	}
	kind := "unsubscribe"
	if pattern {
		kind = "punsubscribe"
	}
	sub := c.ps
	if sub == nil {
		if len(names) == 0 {
			c.out.push(3)
			c.out.bulkString(kind)
			c.out.null()
			c.out.int(0)
			return
		}
		for _, b := range names {
			c.out.push(3)
			c.out.bulkString(kind)
			c.out.bulk(b)
			c.out.int(0)
		}
		return
	}
	set, reg := sub.channels, c.s.hub.channels
	if pattern {
		set, reg = sub.patterns, c.s.hub.patterns
	}
	sub.mu.Lock()
	list := make([]string, 0, len(names))
	for _, b := range names {
		list = append(list, string(b))
	}
	all := len(names) == 0
	if all {
		for name := range set {
			list = append(list, name)
		}
		slices.Sort(list)
	}
	if all && len(list) == 0 {
		c.out.push(3)
		c.out.bulkString(kind)
		c.out.null()
		c.out.int(int64(len(sub.channels) + len(sub.patterns)))
	}
	var gone []string
	for _, name := range list {
		if _, had := set[name]; had {
			delete(set, name)
			gone = append(gone, name)
		}
		c.out.push(3)
		c.out.bulkString(kind)
		c.out.bulkString(name)
		c.out.int(int64(len(sub.channels) + len(sub.patterns)))
	}
	sub.enqueueLocked(c.out.b)
	c.out.b = c.out.b[:0]
	sub.mu.Unlock()
	for _, name := range gone {
		c.s.hub.remove(reg, name, sub)
	}
}

// publish is PUBLISH channel message: delivered to this member's
// subscribers and broadcast to the other members; the reply counts this
// member's receivers, as Redis Cluster's PUBLISH does.
func (c *conn) publish(args [][]byte) {
	c.out.int(int64(c.s.publish(args[1], args[2], c)))
}

// publish delivers a message here and sends it to the other members; self
// is the connection whose command publishes (nil for an expiry).
func (s *Server) publish(channel, message []byte, self *conn) int {
	n := s.hub.publish(channel, message, self)
	s.metrics.published.Add(1)
	if s.bcast != nil {
		s.bcast.Broadcast(channel, message)
	}
	return n
}

// deliverRemote delivers a message another member broadcast.
func (s *Server) deliverRemote(channel, message []byte) {
	s.hub.publish(channel, message, nil)
}

// pubsub is PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT, about
// this member's subscriptions (as in Redis Cluster).
func (c *conn) pubsub(args [][]byte) {
	h := c.s.hub
	switch sub := strings.ToLower(string(args[1])); {
	case sub == "channels" && len(args) <= 3:
		h.mu.RLock()
		var out []string
		for ch := range h.channels {
			if len(args) == 2 || glob.Match(string(args[2]), ch) {
				out = append(out, ch)
			}
		}
		h.mu.RUnlock()
		slices.Sort(out)
		c.out.strings(out)
	case sub == "numsub":
		c.out.array(2 * (len(args) - 2))
		for _, ch := range args[2:] {
			h.mu.RLock()
			n := len(h.channels[string(ch)])
			h.mu.RUnlock()
			c.out.bulk(ch)
			c.out.int(int64(n))
		}
	case sub == "numpat" && len(args) == 2:
		_, n := h.counts()
		c.out.int(int64(n))
	case sub == "help" && len(args) == 2:
		c.out.strings([]string{
			"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CHANNELS [<pattern>]", "    Return the currently active channels matching a <pattern> (default: '*').",
			"NUMPAT", "    Return number of subscriptions to patterns.",
			"NUMSUB [<channel> ...]", "    Return the number of subscribers for the specified channels, excluding",
			"    pattern subscriptions(default: no channels).",
		})
	case sub == "channels" || sub == "numpat":
		c.out.error("ERR unknown subcommand or wrong number of arguments for '" + string(clip(args[1], 128)) + "'. Try PUBSUB HELP.")
	default:
		c.out.error("ERR unknown subcommand '" + string(clip(args[1], 128)) + "'. Try PUBSUB HELP.")
	}
}
