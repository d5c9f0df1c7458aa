package record

import (
	"context"
	"fmt"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/args"
	"github.com/sessiongrid/sessiongrid/session/internal/expiry"
	"github.com/sessiongrid/sessiongrid/session/internal/lifecycle"
)

// UpdateFunc changes the record of one session. r is the session's live
// record, nil when the session is missing or has expired; it may be
// modified and returned. next is the record to store, nil to remove the
// session; changed reports whether anything changed (nothing is written
// when it did not). It may run more than once (a store may retry a
// transaction), so it must only assign its results.
type UpdateFunc func(r *Record, now int64) (next *Record, changed bool)

// ReadFunc reads the record of one session: r is its live record, nil when
// the session is missing or has expired. r and its slices are valid only
// during the call.
type ReadFunc func(r *Record, now int64)

// Backend is what a store that keeps each session and each global as one
// Record (bolt, file) gives Sessions: its storage functions and settings.
// Sessions calls every function inside Gate.
type Backend struct {
	// Update runs fn atomically on the live record of session id, with now
	// read from the store's clock, and stores or removes what fn returns.
	// With reclaim, an expired session that fn leaves alone is removed on
	// the way (as a sweep would). Sessions calls it once Gate has admitted
	// the call (so ctx was not done then); it fails with errors matching
	// ErrCorrupt or session.ErrUnavailable when the storage fails.
	Update func(ctx context.Context, id string, reclaim bool, fn UpdateFunc) error
	// Read runs fn on the live record of session id, consistent with
	// concurrent Updates. With touch it first restarts a live session's idle
	// clock (a write). Errors are those of Update.
	Read func(ctx context.Context, id string, touch bool, fn ReadFunc) error
	// PutGlobal stores the global key (checked), replacing it.
	PutGlobal func(key string, value []byte) error
	// FindGlobal returns a copy of the value of the global key and whether
	// it exists.
	FindGlobal func(key string) (value []byte, found bool, err error)
	// DeleteGlobal removes the global key and reports whether it existed.
	DeleteGlobal func(key string) (existed bool, err error)
	// AllGlobals returns a consistent snapshot of every global, values
	// copied; a corrupt one fails it with ErrCorrupt.
	AllGlobals func() (map[string][]byte, error)
	// Gate admits the calls until the store's Close: they fail fast with
	// session.ErrClosed once it has started.
	Gate *lifecycle.Gate
	// DefaultIdle is the idle timeout of a new session; <= 0 for none.
	DefaultIdle time.Duration
	// MaxValueSize bounds one value (session.ValidateValue).
	MaxValueSize int
	// TouchOnRead makes the reads that slide (Get, GetAll, Props, Exists,
	// GetProp) restart the idle clock too. TTL never does.
	TouchOnRead bool
}

// Sessions implements the methods of session.Store, for a store that keeps
// each session and each global as one Record (bolt, file). The session
// methods (Save, Get, GetAll, Exists, Evict, Clear, SaveProp, GetProp,
// Props, EvictProp, SetExpiry, TTL) check their arguments, then run one
// Update or Read; the global ones (SaveGlobal, GetGlobal, EvictGlobal,
// Globals) one of the global functions. Every call is admitted by the
// Backend's Gate. A store embeds the value NewSessions returns, before its
// first use (its fields are unexported, so the embedding promotes only the
// methods); it is safe for concurrent use as far as the functions are.
type Sessions struct {
	b Backend
}

// NewSessions returns the methods of session.Store over b, whose every
// field must be set.
func NewSessions(b Backend) Sessions { return Sessions{b: b} }

// update runs Update inside the gate.
func (o *Sessions) update(ctx context.Context, id string, reclaim bool, fn UpdateFunc) error {
	if err := o.b.Gate.Enter(ctx); err != nil {
		return err
	}
	defer o.b.Gate.Leave()
	return o.b.Update(ctx, id, reclaim, fn)
}

// read runs Read inside the gate.
func (o *Sessions) read(ctx context.Context, id string, touch bool, fn ReadFunc) error {
	if err := o.b.Gate.Enter(ctx); err != nil {
		return err
	}
	defer o.b.Gate.Leave()
	return o.b.Read(ctx, id, touch, fn)
}

// check fails fast on a closed store or an invalid id.
func (o *Sessions) check(id string) error {
	if o.b.Gate.Closing() {
		return session.ErrClosed
	}
	return session.ValidateID(id)
}

func (o *Sessions) checkValue(v []byte) error {
	return session.ValidateValue(v, o.b.MaxValueSize)
}

// newSession returns an empty session record created at now.
func (o *Sessions) newSession(id string, now int64) *Record {
	r := &Record{Header: Header{Kind: KindSession, Touched: now}, ID: []byte(id)}
	if o.b.DefaultIdle > 0 {
		r.Idle = int64(o.b.DefaultIdle)
	}
	return r
}

// Section names one of a session's two sets of fields, data or props. The
// methods of session.Store come in data/props twins (Save/SaveProp,
// Get/GetProp, GetAll/Props, Evict/EvictProp); Sessions and the memory
// store write each pair once over a Section.
type Section uint8

// The sections of a session.
const (
	DataSection Section = iota
	PropsSection
)

// pairs returns the set of r that sec names.
func (r *Record) pairs(sec Section) *Pairs {
	if sec == PropsSection {
		return &r.Props
	}
	return &r.Data
}

// Save implements session.Store: one Update writing every field.
func (o *Sessions) Save(ctx context.Context, id string, fields ...session.Field) (int, error) {
	return o.save(ctx, id, DataSection, fields)
}

// SaveProp implements session.Store.
func (o *Sessions) SaveProp(ctx context.Context, id, key string, value []byte) error {
	_, err := o.save(ctx, id, PropsSection, []session.Field{{Key: key, Value: value}})
	return err
}

// save writes fields into section sec of session id, creating it, and
// returns how many keys were new.
func (o *Sessions) save(ctx context.Context, id string, sec Section, fields []session.Field) (int, error) {
	if err := o.check(id); err != nil {
		return 0, err
	}
	if err := args.Fields(fields, o.b.MaxValueSize); err != nil {
		return 0, err
	}
	if len(fields) == 0 {
		return 0, nil
	}
	var added int
	err := o.update(ctx, id, true, func(r *Record, now int64) (*Record, bool) {
		if r == nil {
			r = o.newSession(id, now)
		}
		p := r.pairs(sec)
		*p, added = p.Set(fields)
		r.Touched = now
		return r, true
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// Get implements session.Store.
func (o *Sessions) Get(ctx context.Context, id, key string) ([]byte, error) {
	return o.getField(ctx, id, key, DataSection)
}

// GetProp implements session.Store.
func (o *Sessions) GetProp(ctx context.Context, id, key string) ([]byte, error) {
	return o.getField(ctx, id, key, PropsSection)
}

// getField returns a copy of key's value in section sec of session id.
func (o *Sessions) getField(ctx context.Context, id, key string, sec Section) ([]byte, error) {
	v, ok, err := o.lookupField(ctx, id, key, sec, true)
	if err != nil {
		return nil, err
	}
	if !ok {
		if sec == PropsSection {
			return nil, fmt.Errorf("prop: %w", NotFound(id, key))
		}
		return nil, NotFound(id, key)
	}
	return v, nil
}

// Exists implements session.Store.
func (o *Sessions) Exists(ctx context.Context, id, key string) (bool, error) {
	_, ok, err := o.lookupField(ctx, id, key, DataSection, false)
	return ok, err
}

// lookupField finds key in section sec of session id: one Read. With
// copyValue it returns a copy of the value; without, only ok is meaningful.
func (o *Sessions) lookupField(ctx context.Context, id, key string, sec Section, copyValue bool) (v []byte, ok bool, err error) {
	if err := o.check(id); err != nil {
		return nil, false, err
	}
	if err := session.ValidateKey(key); err != nil {
		return nil, false, err
	}
	err = o.read(ctx, id, o.b.TouchOnRead, func(r *Record, _ int64) {
		if r != nil {
			v, ok = r.pairs(sec).Get(key)
			if copyValue {
				v = Clone(v) // r aliases memory valid only inside fn
			}
		}
	})
	if err != nil {
		return nil, false, err
	}
	return v, ok, nil
}

// GetAll implements session.Store.
func (o *Sessions) GetAll(ctx context.Context, id string) (map[string][]byte, error) {
	return o.readMap(ctx, id, DataSection)
}

// Props implements session.Store.
func (o *Sessions) Props(ctx context.Context, id string) (map[string][]byte, error) {
	return o.readMap(ctx, id, PropsSection)
}

func (o *Sessions) readMap(ctx context.Context, id string, sec Section) (map[string][]byte, error) {
	if err := o.check(id); err != nil {
		return nil, err
	}
	m := map[string][]byte{}
	err := o.read(ctx, id, o.b.TouchOnRead, func(r *Record, _ int64) {
		if r != nil {
			m = r.pairs(sec).Map()
		}
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Evict implements session.Store: one Update removing every key.
func (o *Sessions) Evict(ctx context.Context, id string, keys ...string) (int, error) {
	return o.evict(ctx, id, DataSection, keys)
}

// EvictProp implements session.Store.
func (o *Sessions) EvictProp(ctx context.Context, id, key string) (bool, error) {
	removed, err := o.evict(ctx, id, PropsSection, []string{key})
	return removed > 0, err
}

// evict removes keys from section sec of session id and returns how many
// were present.
func (o *Sessions) evict(ctx context.Context, id string, sec Section, keys []string) (int, error) {
	if err := o.check(id); err != nil {
		return 0, err
	}
	if err := args.Keys(keys); err != nil {
		return 0, err
	}
	var removed int
	err := o.update(ctx, id, true, func(r *Record, now int64) (*Record, bool) {
		if r == nil {
			return nil, false
		}
		p := r.pairs(sec)
		*p, removed = p.Delete(keys...)
		return afterRemoval(r, now, removed > 0)
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}

// afterRemoval ends an update that removed entries from r: the idle clock
// restarts when something changed, and an empty session is removed.
func afterRemoval(r *Record, now int64, changed bool) (*Record, bool) {
	if !changed {
		return r, false
	}
	if r.Data.n == 0 && r.Props.n == 0 {
		return nil, true
	}
	r.Touched = now
	return r, true
}

// Clear implements session.Store: one Update removing the session, or
// every data key but retain.
func (o *Sessions) Clear(ctx context.Context, id string, retain ...string) (bool, error) {
	if err := o.check(id); err != nil {
		return false, err
	}
	var existed bool
	err := o.update(ctx, id, true, func(r *Record, now int64) (*Record, bool) {
		if r == nil {
			return nil, false
		}
		existed = true
		if len(retain) == 0 {
			return nil, true
		}
		r.Data, _ = r.Data.Retain(retain)
		return afterRemoval(r, now, true)
	})
	if err != nil {
		return false, err
	}
	return existed, nil
}

// SetExpiry implements session.Store. It restarts the idle clock; an
// expired session is left for the sweep.
func (o *Sessions) SetExpiry(ctx context.Context, id string, e session.Expiry) error {
	if err := o.check(id); err != nil {
		return err
	}
	found := false
	err := o.update(ctx, id, false, func(r *Record, now int64) (*Record, bool) {
		if r == nil {
			return nil, false
		}
		found = true
		r.Idle, r.Deadline = expiry.Override(e, r.Idle, now)
		r.Touched = now
		return r, true
	})
	if err != nil {
		return err
	}
	if !found {
		return NotFound(id, "")
	}
	return nil
}

// TTL implements session.Store. It never slides the idle timeout.
func (o *Sessions) TTL(ctx context.Context, id string) (time.Duration, error) {
	if err := o.check(id); err != nil {
		return 0, err
	}
	var ttl time.Duration
	found := false
	err := o.read(ctx, id, false, func(r *Record, now int64) {
		if r == nil {
			return
		}
		found = true
		ttl = session.NoExpiry
		if at := r.ExpiresAt(); at != 0 {
			ttl = time.Duration(at - now)
		}
	})
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, NotFound(id, "")
	}
	return ttl, nil
}

// NotFound is session.ErrNotFound for session id (key "") or for key in
// it, with both truncated for the message.
func NotFound(id, key string) error {
	if key == "" {
		return fmt.Errorf("%w: session %q", session.ErrNotFound, Truncate(id))
	}
	return fmt.Errorf("%w: %q in session %q", session.ErrNotFound, Truncate(key), Truncate(id))
}

// Truncate shortens an id or key for an error message: its first 64 bytes
// and "...".
func Truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Clone copies b into a new non-nil slice, for a value that must outlive
// the record (or transaction) it was read from.
func Clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
