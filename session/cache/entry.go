package cache

import (
	"maps"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/expiry"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// entry is one session. It is immutable once published in the cache: every
// change builds a new entry (copy on write) that shares the maps it does not
// change. Times are Unix nanoseconds of the store's clock.
type entry struct {
	data  map[string][]byte // data keys; nil when empty
	props map[string][]byte // props; nil when empty
	// gen identifies this incarnation of the session: it is drawn when the
	// session is created and kept by every later value, so that the sweep
	// index can tell the removal of an old incarnation from the current one.
	gen      uint64
	idle     int64 // idle timeout in ns; 0 = never idles out
	deadline int64 // absolute deadline; 0 = none
	touched  int64 // last slide of the idle timeout
	bytes    int64 // len(id) + every key and value
}

func newEntry(id string, gen uint64, idle, now int64) *entry {
	return &entry{gen: gen, idle: idle, touched: now, bytes: int64(len(id))}
}

// expiresAt returns when e expires, 0 if never.
func (e *entry) expiresAt() int64 { return expiry.At(e.touched, e.idle, e.deadline) }

func (e *entry) live(now int64) bool { return expiry.Live(e.expiresAt(), now) }

func (e *entry) empty() bool { return len(e.data) == 0 && len(e.props) == 0 }

// clone returns a shallow copy of e: the maps are shared until replaced.
func (e *entry) clone() *entry {
	c := *e
	return &c
}

// touch returns a copy of e whose idle timeout restarts at now.
func (e *entry) touch(now int64) *entry {
	c := e.clone()
	c.touched = now
	return c
}

// fields returns the map of e that sec names. The data/props twins of
// session.Store (Save/SaveProp, Get/GetProp, GetAll/Props, Evict/EvictProp)
// are each written once over a record.Section.
func (e *entry) fields(sec record.Section) *map[string][]byte {
	if sec == record.PropsSection {
		return &e.props
	}
	return &e.data
}

// with returns a copy of e with fields written into section sec (a later
// duplicate key wins) and how many keys were new. Values are copied.
func (e *entry) with(sec record.Section, fields []session.Field, now int64) (*entry, int) {
	c := e.clone()
	old := *e.fields(sec)
	m := make(map[string][]byte, len(old)+len(fields))
	maps.Copy(m, old)
	added := 0
	for _, f := range fields {
		if old, ok := m[f.Key]; ok {
			c.bytes -= int64(len(f.Key) + len(old))
		} else {
			added++
		}
		m[f.Key] = clone(f.Value)
		c.bytes += int64(len(f.Key) + len(f.Value))
	}
	*c.fields(sec) = m
	c.touched = now
	return c, added
}

// without returns a copy of e without keys in section sec (nil when none
// existed) and how many existed.
func (e *entry) without(sec record.Section, keys []string, now int64) (*entry, int) {
	removed := 0
	var c *entry
	for _, k := range keys {
		v, ok := (*e.fields(sec))[k]
		if c != nil {
			v, ok = (*c.fields(sec))[k]
		}
		if !ok {
			continue
		}
		if c == nil {
			c = e.clone()
			*c.fields(sec) = maps.Clone(*e.fields(sec))
			c.touched = now
		}
		delete(*c.fields(sec), k)
		c.bytes -= int64(len(k) + len(v))
		removed++
	}
	return c, removed
}

// retaining returns a copy of e keeping only the data keys named in retain
// (props kept).
func (e *entry) retaining(retain []string, now int64) *entry {
	c := e.clone()
	c.data = nil
	for _, k := range retain {
		if v, ok := e.data[k]; ok {
			if c.data == nil {
				c.data = make(map[string][]byte, len(retain))
			}
			c.data[k] = v
		}
	}
	c.bytes = e.bytes - e.dataBytes() + c.dataBytes()
	c.touched = now
	return c
}

func (e *entry) dataBytes() int64 {
	var n int64
	for k, v := range e.data {
		n += int64(len(k) + len(v))
	}
	return n
}

// withExpiry returns a copy of e with the expiry override x applied at now:
// Idle > 0 sets the idle timeout, Idle < 0 disables it, 0 keeps it; TTL > 0
// sets the deadline now+TTL, otherwise removes it. The idle clock restarts.
func (e *entry) withExpiry(x session.Expiry, now int64) *entry {
	c := e.clone()
	c.idle, c.deadline = expiry.Override(x, c.idle, now)
	c.touched = now
	return c
}

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(b)), b...)
}

func copyMap(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = clone(v)
	}
	return out
}
