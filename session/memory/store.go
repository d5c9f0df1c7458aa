package memory

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/internal/args"
	"github.com/sessiongrid/sessiongrid/session/internal/expiry"
	"github.com/sessiongrid/sessiongrid/session/internal/globals"
	"github.com/sessiongrid/sessiongrid/session/internal/record"
)

// Store is the in-memory store. It implements session.Store,
// session.Strings, session.Keyspace and session.Sweeper. Create it with New.
type Store struct {
	cfg    Config
	seed   maphash.Seed
	shards []shard
	mask   uint64

	// globalOps holds the globals and provides SaveGlobal, GetGlobal,
	// EvictGlobal and Globals.
	*globalOps

	expired atomic.Uint64 // sessions removed because they expired
	closed  atomic.Bool

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once

	watch watchers // session.Watcher callbacks
}

type shard struct {
	mu       sync.RWMutex // guards the fields below
	idx      index        // the shard's keys
	bytes    int64        // bytes of ids, keys and values held
	sessions int
	strings  int
	_        [64]byte // keep shards on separate cache lines
}

// entry is one key: a session or a plain string, laid out as fields.go
// describes. Times are Unix nanoseconds of the store's clock.
type entry struct {
	touched atomic.Int64 // last touch; atomic so reads may slide it under RLock
	idle    int64        // idle timeout in ns; 0 = never idles out
	// p, n and c are the block (the id, then the data and props pairs or
	// the value) as a slice's pointer, length and capacity: block() and
	// setBlock() convert. Eight bytes fewer than a []byte.
	p       *byte
	n, c    uint32
	ext     *extras // map-form sections and the deadline; nil while none
	propsAt uint32  // offset of the props pairs in the block
	ndata   uint8   // pairs in the packed data section
	nprops  uint8   // pairs in the packed props section
	kind    session.Kind
}

// newEntry returns an entry for id with room for extra bytes of pairs or
// value.
func newEntry(id string, kind session.Kind, extra int) *entry {
	e := &entry{kind: kind}
	e.setBlock(newBlock(id, extra))
	e.propsAt = e.n
	return e
}

// expiresAt returns when e expires, 0 if never.
func (e *entry) expiresAt() int64 {
	return expiry.At(e.touched.Load(), e.idle, e.deadline())
}

func (e *entry) live(now int64) bool { return expiry.Live(e.expiresAt(), now) }

// size returns the bytes of the id, keys and values held (with the pairs'
// length prefixes while packed).
func (e *entry) size() int64 {
	n, w := binary.Uvarint(e.block())
	if e.kind == session.KindString {
		return int64(int(e.n) - w)
	}
	return int64(int(n) + e.dataSec().size() + e.propsSec().size())
}

// empty reports whether a session holds no data and no props.
func (e *entry) empty() bool { return e.dataSec().len() == 0 && e.propsSec().len() == 0 }

// globalOps names globals.Map so that Store embeds it in an unexported
// field: its methods are promoted, the field stays private.
type globalOps = globals.Map

// New returns a store. Its sweeper goroutine, if any, stops at Close.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Store{
		cfg:    cfg,
		seed:   maphash.MakeSeed(),
		shards: make([]shard, cfg.Shards),
		mask:   uint64(cfg.Shards - 1),
		stop:   make(chan struct{}),
	}
	s.globalOps = globals.New(s.closed.Load, cfg.MaxValueSize)
	for i := range s.shards {
		s.shards[i].idx = newIndex()
	}
	if cfg.SweepInterval > 0 {
		s.wg.Add(1)
		go s.sweepLoop()
	}
	return s, nil
}

func (s *Store) shard(id string) *shard {
	return &s.shards[maphash.String(s.seed, id)&s.mask]
}

func (s *Store) now() int64 { return s.cfg.Now().UnixNano() }

func (s *Store) check(id string) error {
	if s.closed.Load() {
		return session.ErrClosed
	}
	return session.ValidateID(id)
}

func (s *Store) checkValue(v []byte) error {
	return session.ValidateValue(v, s.cfg.MaxValueSize)
}

// lookupLocked returns the live entry of id, nil if missing or expired.
func (sh *shard) lookupLocked(id string, now int64) *entry {
	e := sh.idx.get(id)
	if e == nil || !e.live(now) {
		return nil
	}
	return e
}

// removeLocked deletes id's entry from the shard's map and counters.
func (sh *shard) removeLocked(id string, e *entry) {
	sh.idx.remove(id)
	sh.bytes -= e.size()
	if e.kind == session.KindString {
		sh.strings--
	} else {
		sh.sessions--
	}
}

// insertLocked adds a new entry for id, dropping an expired one first; its
// block has room for extra bytes of pairs or value.
func (s *Store) insertLocked(sh *shard, id string, kind session.Kind, now int64, extra int) *entry {
	if old := sh.idx.get(id); old != nil {
		sh.removeLocked(id, old)
		s.expiredLocked(id)
	}
	e := newEntry(id, kind, extra)
	e.touched.Store(now)
	if kind == session.KindSession && s.cfg.DefaultIdle > 0 {
		e.idle = int64(s.cfg.DefaultIdle)
	}
	sh.addLocked(e)
	return e
}

// addLocked puts e, a key not in the shard, in its map and counters; the
// reverse of removeLocked.
func (sh *shard) addLocked(e *entry) {
	sh.idx.add(e)
	sh.bytes += e.size()
	if e.kind == session.KindString {
		sh.strings++
	} else {
		sh.sessions++
	}
}

// view runs fn on the live entry of key, if any, under its shard's read
// lock.
func (s *Store) view(key string, fn func(e *entry)) {
	sh := s.shard(key)
	now := s.now()
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if e := sh.lookupLocked(key, now); e != nil {
		fn(e)
	}
}

// sessionLocked returns the live session id for writing, creating it when
// create is set. It returns ErrWrongType for a string key.
func (s *Store) sessionLocked(sh *shard, id string, now int64, create bool, extra int) (*entry, error) {
	e := sh.lookupLocked(id, now)
	if e == nil {
		if !create {
			if old := sh.idx.get(id); old != nil { // expired: reclaim now
				sh.removeLocked(id, old)
				s.expiredLocked(id)
			}
			return nil, nil
		}
		return s.insertLocked(sh, id, session.KindSession, now, extra), nil
	}
	if e.kind != session.KindSession {
		return nil, wrongType(id)
	}
	return e, nil
}

// readLocked returns the live session id for reading (nil if missing), and
// slides its idle timeout when the store touches on reads.
func (s *Store) readLocked(sh *shard, id string) (*entry, error) {
	now := s.now()
	e := sh.lookupLocked(id, now)
	if e == nil {
		return nil, nil
	}
	if e.kind != session.KindSession {
		return nil, wrongType(id)
	}
	if s.cfg.TouchOnRead {
		e.touched.Store(now)
	}
	return e, nil
}

func wrongType(id string) error {
	return fmt.Errorf("%w: %q", session.ErrWrongType, record.Truncate(id))
}

// notFoundError is session.ErrNotFound with the id and key. Its message is
// built only when asked for: misses are common (HGET of a missing field)
// and must stay cheap.
type notFoundError struct {
	id, key string
	prop    bool
}

func (e *notFoundError) Error() string {
	switch {
	case e.key == "":
		return fmt.Sprintf("%v: session %q", session.ErrNotFound, record.Truncate(e.id))
	case e.prop:
		return fmt.Sprintf("prop: %v: %q in session %q", session.ErrNotFound, record.Truncate(e.key), record.Truncate(e.id))
	}
	return fmt.Sprintf("%v: %q in session %q", session.ErrNotFound, record.Truncate(e.key), record.Truncate(e.id))
}

func (e *notFoundError) Unwrap() error { return session.ErrNotFound }

func notFound(id, key string) error { return &notFoundError{id: id, key: key} }

// mutate updates entry e of shard sh with fn and keeps the byte count.
func (sh *shard) mutate(e *entry, fn func()) {
	before := e.size()
	fn()
	sh.bytes += e.size() - before
}

// write runs fn on the live session id under its shard's write lock,
// creating the session first when create is set; fn is not called when
// the session is missing. fn reports whether it changed the session: the
// idle clock then restarts. The byte count follows, and a session left
// with no data and no props is removed. found reports whether fn ran.
//
// A session it creates gets room for extra bytes of pairs.
func (s *Store) write(id string, create bool, extra int, fn func(e *entry) (changed bool)) (found bool, err error) {
	sh := s.shard(id)
	now := s.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, err := s.sessionLocked(sh, id, now, create, extra)
	if err != nil || e == nil {
		return false, err
	}
	var changed bool
	sh.mutate(e, func() { changed = fn(e) })
	if changed {
		e.touched.Store(now)
	}
	if e.empty() {
		sh.removeLocked(id, e)
		s.emit(session.EventDeleted, id)
	}
	return true, nil
}

// Save implements session.Store.
func (s *Store) Save(_ context.Context, id string, kvs ...session.Field) (int, error) {
	return s.save(id, record.DataSection, kvs)
}

// SaveProp implements session.Store.
func (s *Store) SaveProp(_ context.Context, id, key string, value []byte) error {
	_, err := s.save(id, record.PropsSection, []session.Field{{Key: key, Value: value}})
	return err
}

// save writes kvs into section sec of session id, creating it, and returns
// how many keys were new.
func (s *Store) save(id string, sec record.Section, kvs []session.Field) (int, error) {
	if err := s.check(id); err != nil {
		return 0, err
	}
	if err := args.Fields(kvs, s.cfg.MaxValueSize); err != nil {
		return 0, err
	}
	if len(kvs) == 0 {
		return 0, nil
	}
	var added, extra int
	for _, kv := range kvs {
		extra += record.PairLen(len(kv.Key), len(kv.Value))
	}
	_, err := s.write(id, true, extra, func(e *entry) bool {
		added = e.section(sec).set(kvs)
		return true
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// Get implements session.Store.
func (s *Store) Get(_ context.Context, id, key string) ([]byte, error) {
	return s.getField(id, key, record.DataSection)
}

// GetProp implements session.Store.
func (s *Store) GetProp(_ context.Context, id, key string) ([]byte, error) {
	return s.getField(id, key, record.PropsSection)
}

// getField returns a copy of key's value in section sec of session id.
func (s *Store) getField(id, key string, sec record.Section) ([]byte, error) {
	v, ok, err := s.lookupField(id, key, sec, valueCopy, nil)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &notFoundError{id: id, key: key, prop: sec == record.PropsSection}
	}
	return v, nil
}

// Exists implements session.Store.
func (s *Store) Exists(_ context.Context, id, key string) (bool, error) {
	_, ok, err := s.lookupField(id, key, record.DataSection, valueNone, nil)
	return ok, err
}

// AppendValue appends the value of key in session id's data to dst and
// returns the extended buffer: Get without a copy of its own (the server's
// HGET reuses one buffer per connection). Its errors are Get's, with dst
// returned unchanged.
func (s *Store) AppendValue(dst []byte, id, key string) ([]byte, error) {
	v, ok, err := s.lookupField(id, key, record.DataSection, valueAppend, dst)
	switch {
	case err != nil:
		return dst, err
	case !ok:
		return dst, &notFoundError{id: id, key: key}
	}
	return v, nil
}

// What lookupField does with the value it finds.
type valueUse int

const (
	valueNone   valueUse = iota // only whether it is there
	valueCopy                   // a copy of it
	valueAppend                 // it appended to dst
)

// lookupField finds key in section sec of session id, under the shard's
// read lock, and returns the value as use says (taken under the lock: a
// write may overwrite the packed bytes in place once it is released).
func (s *Store) lookupField(id, key string, sec record.Section, use valueUse, dst []byte) (v []byte, ok bool, err error) {
	if err := s.check(id); err != nil {
		return nil, false, err
	}
	if err := session.ValidateKey(key); err != nil {
		return nil, false, err
	}
	sh := s.shard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, err := s.readLocked(sh, id)
	if err != nil || e == nil {
		return nil, false, err
	}
	v, ok = e.section(sec).get(key)
	switch {
	case !ok:
	case use == valueCopy:
		v = clone(v)
	case use == valueAppend:
		v = append(dst, v...)
	}
	return v, ok, nil
}

// GetAll implements session.Store.
func (s *Store) GetAll(_ context.Context, id string) (map[string][]byte, error) {
	return s.readMap(id, record.DataSection)
}

// Props implements session.Store.
func (s *Store) Props(_ context.Context, id string) (map[string][]byte, error) {
	return s.readMap(id, record.PropsSection)
}

func (s *Store) readMap(id string, sec record.Section) (map[string][]byte, error) {
	if err := s.check(id); err != nil {
		return nil, err
	}
	sh := s.shard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, err := s.readLocked(sh, id)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return map[string][]byte{}, nil
	}
	return e.section(sec).copyMap(), nil
}

// Evict implements session.Store.
func (s *Store) Evict(_ context.Context, id string, keys ...string) (int, error) {
	return s.evict(id, record.DataSection, keys)
}

// EvictProp implements session.Store.
func (s *Store) EvictProp(_ context.Context, id, key string) (bool, error) {
	removed, err := s.evict(id, record.PropsSection, []string{key})
	return removed > 0, err
}

// evict removes keys from section sec of session id and returns how many
// existed.
func (s *Store) evict(id string, sec record.Section, keys []string) (int, error) {
	if err := s.check(id); err != nil {
		return 0, err
	}
	if err := args.Keys(keys); err != nil {
		return 0, err
	}
	var removed int
	_, err := s.write(id, false, 0, func(e *entry) bool {
		removed = e.section(sec).del(keys)
		return removed > 0
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}

// Clear implements session.Store.
func (s *Store) Clear(_ context.Context, id string, retain ...string) (bool, error) {
	if err := s.check(id); err != nil {
		return false, err
	}
	return s.write(id, false, 0, func(e *entry) bool {
		if len(retain) == 0 {
			e.dataSec().clear()
			e.propsSec().clear()
		} else {
			e.dataSec().retain(retain)
		}
		return true
	})
}

// SetExpiry implements session.Store. It applies to a key of any kind.
func (s *Store) SetExpiry(_ context.Context, id string, x session.Expiry) error {
	if err := s.check(id); err != nil {
		return err
	}
	sh := s.shard(id)
	now := s.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.lookupLocked(id, now)
	if e == nil {
		return notFound(id, "")
	}
	idle, deadline := expiry.Override(x, e.idle, now)
	e.idle = idle
	e.setDeadline(deadline)
	e.touched.Store(now)
	return nil
}

// TTL implements session.Store. It applies to a key of any kind.
func (s *Store) TTL(_ context.Context, id string) (time.Duration, error) {
	if err := s.check(id); err != nil {
		return 0, err
	}
	sh := s.shard(id)
	now := s.now()
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e := sh.lookupLocked(id, now)
	if e == nil {
		return 0, notFound(id, "")
	}
	at := e.expiresAt()
	if at == 0 {
		return session.NoExpiry, nil
	}
	return time.Duration(at - now), nil
}

// Sweep implements session.Sweeper: it removes every expired key now.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	removed := 0
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		removed += s.sweepShard(&s.shards[i])
	}
	return removed, nil
}

func (s *Store) sweepShard(sh *shard) int {
	now := s.now()
	removed := 0
	sh.mu.Lock()
	sh.idx.each(func(e *entry) {
		if !e.live(now) {
			id := e.id()
			sh.removeLocked(id, e)
			s.emit(session.EventExpired, id)
			removed++
		}
	})
	sh.idx.compact()
	sh.mu.Unlock()
	s.expired.Add(uint64(removed))
	return removed
}

// sweepLoop sweeps one shard at a time, spreading a full pass over the
// sweep interval so that no pass holds up many requests at once.
func (s *Store) sweepLoop() {
	defer s.wg.Done()
	step := s.cfg.SweepInterval / time.Duration(len(s.shards))
	if step < time.Millisecond {
		step = time.Millisecond
	}
	t := time.NewTicker(step)
	defer t.Stop()
	for i := 0; ; i = (i + 1) % len(s.shards) {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweepShard(&s.shards[i])
		}
	}
}

// Close implements session.Store: it stops the sweeper and drops the data.
func (s *Store) Close(context.Context) error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		s.wg.Wait()
	})
	return nil
}

// BorrowsStrings marks the store as a server.Borrower: Save, SaveProp,
// Get, GetProp and Exists copy the id and keys they store and keep none of
// the strings they are given once they return (a returned error may refer
// to them), so a caller may pass strings that alias a buffer it reuses.
func (s *Store) BorrowsStrings() {}

// Stats is a snapshot of the store's counters.
type Stats = session.Stats

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	var st Stats
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		st.Sessions += sh.sessions
		st.Strings += sh.strings
		st.Bytes += sh.bytes
		sh.mu.RUnlock()
	}
	st.Keys = st.Sessions + st.Strings
	st.Globals = globals.Len(s.globalOps)
	st.Expired = s.expired.Load()
	return st
}

var (
	_ session.Store    = (*Store)(nil)
	_ session.Sweeper  = (*Store)(nil)
	_ session.Strings  = (*Store)(nil)
	_ session.Keyspace = (*Store)(nil)
)
