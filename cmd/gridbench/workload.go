package main

// The chatbot workload (/work/shared/WORKLOAD.md): what a WCE engine does to
// its session store for every incoming WhatsApp message. The step list of
// steps() follows pywce's engine worker (Worker.work and the handlers it
// calls: _exists_in_queue, _append_message_to_queue, _inactivity_handler,
// _checkpoint_handler, _check_authentication), its MessageProcessor and
// WhatsAppService.send_message, which jawce mirrors in Java: 14 reads and 7
// writes or evictions per message (two thirds reads), one prop read and
// write on templates that ask the user something, and a whole-session Clear
// when the session has timed out. The session keys carry the names of
// pywce's SessionConstants.

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
)

// Session keys, as pywce names them (jawce: kEnginePrevStage, ...).
const (
	keyCurrentStage = "pywce_current_stage" // stage name the user is at
	keyPrevStage    = "pywce_prev_stage"
	keyLastActivity = "pywce_last_activity" // ISO 8601, inactivity check
	keyDebounce     = "pywce_debounce"      // epoch ms of the last accepted message
	keyMsgID        = "pywce_msg_id"        // last WhatsApp message id
	keyHistory      = "pywce_history"       // the last MESSAGE_QUEUE_COUNT ids, de-duplication
	keyCheckpoint   = "pywce_checkpoint"    // stage to return to on "Retry"
	keyRetryCount   = "pywce_retry_count"   // invalid answers at this stage
	keyDynamicRetry = "pywce_dynamic_retry" // set by an error reply with a Retry button
	keyAuthSession  = "pywce_auth_session"  // auth record (~200 B map)
	keyAuthExpire   = "pywce_auth_expire_on"
	keyAuthMSISDN   = "pywce_auth_msisdn"
	keyExpiry       = "pywce_expiry"
	keyExtHandler   = "pywce_ext_handler" // live-support / AI hand-off, normally absent
	keyUserName     = "user_name"         // written by the bot's own hooks
)

// stages are template names a flow moves through (10-40 bytes).
var stages = []string{
	"START-MENU", "MAIN-MENU", "BALANCE-ENQUIRY", "BUY-AIRTIME", "AIRTIME-AMOUNT",
	"AIRTIME-CONFIRM", "PAY-BILL", "BILL-ACCOUNT-NUMBER", "BILL-AMOUNT", "BILL-CONFIRMATION",
	"REGISTER-NAME", "REGISTER-ADDRESS", "REGISTER-ID-NUMBER", "LIVE-SUPPORT-HANDOFF", "GOODBYE",
}

// propKeys are answers templates collect from the user (session props).
var propKeys = []string{
	"name", "surname", "address", "city", "id_number", "account_number",
	"amount", "biller", "plan", "language", "email", "preferred_branch",
}

// workload configures the generator.
type workload struct {
	// Sessions is the population of users (sessions), Zipf-skewed.
	Sessions int
	// Zipf is the exponent s of the user distribution (> 1).
	Zipf float64
	// Prefix starts every session id, to keep the benchmark's keys apart
	// (followed by the target's number: gb:t1:263700000042).
	Prefix string
	// HistoryMax is pywce's EngineConstants.MESSAGE_QUEUE_COUNT (jawce: 10).
	HistoryMax int
	// PropRate is the fraction of messages answering a template that asks
	// the user something: one prop read and one prop write.
	PropRate float64
	// CheckpointRate is the fraction of messages reaching a checkpoint
	// template (one more write).
	CheckpointRate float64
	// RetryRate is the fraction of messages answered with an error and a
	// Retry button: pywce then sets DYNAMIC_RETRY instead of evicting it.
	RetryRate float64
	// ClearRate is the fraction of messages that find the session inactive
	// or its auth expired: the engine clears the whole session.
	ClearRate float64
}

// defaultWorkload returns the shape of WORKLOAD.md.
func defaultWorkload() workload {
	return workload{
		Sessions:       100_000,
		Zipf:           1.1,
		Prefix:         "gb:",
		HistoryMax:     100,
		PropRate:       0.3,
		CheckpointRate: 0.2,
		RetryRate:      0.05,
		ClearRate:      0.005,
	}
}

func (w workload) validate() error {
	switch {
	case w.Sessions < 1:
		return fmt.Errorf("-sessions must be at least 1, got %d", w.Sessions)
	case !(w.Zipf > 1):
		return fmt.Errorf("-zipf must be greater than 1, got %v", w.Zipf)
	case w.HistoryMax < 1:
		return fmt.Errorf("history length must be at least 1, got %d", w.HistoryMax)
	}
	for name, r := range map[string]float64{"prop": w.PropRate, "checkpoint": w.CheckpointRate, "retry": w.RetryRate, "clear": w.ClearRate} {
		if r < 0 || r > 1 {
			return fmt.Errorf("%s rate must be in [0, 1], got %v", name, r)
		}
	}
	return nil
}

// opKind is a type of store operation, measured separately.
type opKind int

const (
	opGet opKind = iota
	opSave
	opExists
	opEvict
	opClear
	opGetProp
	opSaveProp
	numOps
)

var opNames = [numOps]string{"get", "save", "exists", "evict", "clear", "getprop", "saveprop"}

func (k opKind) String() string { return opNames[k] }

// recorder holds one client's measurements.
type recorder struct {
	ops  [numOps]histogram
	errs [numOps]uint64
	msg  histogram // a whole message
}

func (r *recorder) merge(o *recorder) {
	for i := range r.ops {
		r.ops[i].merge(&o.ops[i])
		r.errs[i] += o.errs[i]
	}
	r.msg.merge(&o.msg)
}

// engine is one simulated bot worker: it processes messages one at a time
// against b, with its own random source, recording into rec when rec is
// not nil (nil during warm-up).
type engine struct {
	w   *workload
	b   backend
	rng *rand.Rand
	rec *recorder
	now func() time.Time
	seq uint64 // messages generated, for unique message ids
	ops int    // operations issued by the current message
}

func newEngine(w *workload, b backend, seed uint64) *engine {
	return &engine{w: w, b: b, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), now: time.Now}
}

// errNotFound is returned by the read helpers as found=false instead.
var errNotFound = session.ErrNotFound

// timed runs fn as operation k and records its latency.
func (e *engine) timed(k opKind, fn func() error) error {
	e.ops++
	start := time.Now()
	err := fn()
	if e.rec != nil {
		if err != nil && !errors.Is(err, errNotFound) {
			e.rec.errs[k]++
		} else {
			e.rec.ops[k].record(time.Since(start))
		}
	}
	return err
}

// get reads a data key; a missing key is found=false, not an error.
func (e *engine) get(ctx context.Context, id, key string) (v []byte, found bool, err error) {
	err = e.timed(opGet, func() (err error) { v, err = e.b.Get(ctx, id, key); return err })
	if errors.Is(err, errNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (e *engine) save(ctx context.Context, id string, fields ...session.Field) error {
	return e.timed(opSave, func() error { return e.b.Save(ctx, id, fields...) })
}

func (e *engine) exists(ctx context.Context, id, key string) (ok bool, err error) {
	err = e.timed(opExists, func() (err error) { ok, err = e.b.Exists(ctx, id, key); return err })
	return ok, err
}

func (e *engine) evict(ctx context.Context, id string, keys ...string) error {
	return e.timed(opEvict, func() error { return e.b.Evict(ctx, id, keys...) })
}

func (e *engine) clear(ctx context.Context, id string) error {
	return e.timed(opClear, func() error { return e.b.Clear(ctx, id) })
}

func (e *engine) getProp(ctx context.Context, id, key string) (v []byte, found bool, err error) {
	err = e.timed(opGetProp, func() (err error) { v, err = e.b.GetProp(ctx, id, key); return err })
	if errors.Is(err, errNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (e *engine) saveProp(ctx context.Context, id, key string, v []byte) error {
	return e.timed(opSaveProp, func() error { return e.b.SaveProp(ctx, id, key, v) })
}

// message processes one incoming message of the user with session id and
// returns how many store operations it made. Each step names what pywce
// does there; an error of the store aborts the message, as an exception
// would in the engine.
func (e *engine) message(ctx context.Context, user int, id string) (ops int, err error) {
	e.ops = 0
	e.seq++
	now := e.now()
	msgID := e.messageID(user)
	err = e.steps(ctx, user, id, now, msgID)
	return e.ops, err
}

func (e *engine) steps(ctx context.Context, user int, id string, now time.Time, msgID []byte) error {
	// Worker._exists_in_queue: read the message-id history, drop duplicates.
	hist, _, err := e.get(ctx, id, keyHistory)
	if err != nil {
		return err
	}
	if historyContains(hist, msgID) {
		return nil // a webhook retry of a message already handled
	}
	// Debounce: read the last accepted timestamp, store this one.
	if _, _, err := e.get(ctx, id, keyDebounce); err != nil {
		return err
	}
	if err := e.save(ctx, id, field(keyDebounce, strconv.AppendInt(nil, now.UnixMilli(), 10))); err != nil {
		return err
	}
	// Worker._append_message_to_queue: read the history again, append the
	// id, keep the last MESSAGE_QUEUE_COUNT, write it back (the largest
	// value of the session, about 6 KB at 100 ids).
	hist, _, err = e.get(ctx, id, keyHistory)
	if err != nil {
		return err
	}
	if err := e.save(ctx, id, field(keyHistory, historyAppend(hist, msgID, e.w.HistoryMax))); err != nil {
		return err
	}
	// MessageProcessor.setup: the current stage (none = first message of a
	// new or cleared session) and the retry count of that stage.
	cur, found, err := e.get(ctx, id, keyCurrentStage)
	if err != nil {
		return err
	}
	firstTime := !found
	if _, _, err := e.get(ctx, id, keyRetryCount); err != nil {
		return err
	}
	// _hook_next_template_handler: post hooks run unless a dynamic retry is
	// pending; a template that asked the user something stores the answer
	// as a prop, after reading what the flow collected so far.
	if _, _, err := e.get(ctx, id, keyDynamicRetry); err != nil {
		return err
	}
	if e.rng.Float64() < e.w.PropRate {
		k := propKeys[e.rng.IntN(len(propKeys))]
		if _, _, err := e.getProp(ctx, id, k); err != nil {
			return err
		}
		if err := e.saveProp(ctx, id, propKeys[e.rng.IntN(len(propKeys))], e.propValue()); err != nil {
			return err
		}
	}
	if !firstTime {
		// _inactivity_handler: auth flag and last activity; an inactive or
		// expired session is cleared whole (EngineSessionException) and
		// the message ends with a "session expired" button.
		if _, _, err := e.get(ctx, id, keyAuthSession); err != nil {
			return err
		}
		if _, _, err := e.get(ctx, id, keyLastActivity); err != nil {
			return err
		}
		if e.rng.Float64() < e.w.ClearRate {
			return e.clear(ctx, id)
		}
		// _checkpoint_handler: checkpoint and dynamic-retry flag.
		if _, _, err := e.get(ctx, id, keyCheckpoint); err != nil {
			return err
		}
		if _, _, err := e.get(ctx, id, keyDynamicRetry); err != nil {
			return err
		}
	}
	// _check_authentication of the next template: auth record and expiry.
	if _, _, err := e.get(ctx, id, keyAuthSession); err != nil {
		return err
	}
	if _, _, err := e.get(ctx, id, keyAuthExpire); err != nil {
		return err
	}
	// Pre hooks: is the chat handed to live support (key_in_session)?
	if _, err := e.exists(ctx, id, keyExtHandler); err != nil {
		return err
	}
	// WhatsAppService.send_message(handle_session=True): read the current
	// stage, move it to the previous one, store the next stage and the
	// activity time.
	if _, _, err := e.get(ctx, id, keyCurrentStage); err != nil {
		return err
	}
	next := stages[e.rng.IntN(len(stages))]
	if firstTime {
		cur = jsonString(stages[0])
		// The login hook of a fresh session stores the user's profile.
		if err := e.save(ctx, id, e.profile(user, now)...); err != nil {
			return err
		}
	}
	if err := e.save(ctx, id, field(keyPrevStage, cur)); err != nil {
		return err
	}
	if err := e.save(ctx, id, field(keyCurrentStage, jsonString(next))); err != nil {
		return err
	}
	if err := e.save(ctx, id, field(keyLastActivity, isoTime(now))); err != nil {
		return err
	}
	if e.rng.Float64() < e.w.CheckpointRate {
		if err := e.save(ctx, id, field(keyCheckpoint, jsonString(next))); err != nil {
			return err
		}
	}
	// Worker.work after _runner: clear the dynamic retry (or set it when
	// the reply was an error with a Retry button) and store the message id.
	if e.rng.Float64() < e.w.RetryRate {
		if err := e.save(ctx, id, field(keyDynamicRetry, []byte("true"))); err != nil {
			return err
		}
	} else if err := e.evict(ctx, id, keyDynamicRetry); err != nil {
		return err
	}
	return e.save(ctx, id, field(keyMsgID, jsonString(string(msgID))))
}

// preloadSession returns the data and props of a preloaded session of
// user: 13 engine keys with a history of 8..HistoryMax ids (1-8 KB with
// pywce's 100) and 0..4 props.
func (e *engine) preloadSession(user int, now time.Time) (data, props []session.Field) {
	lo := min(8, e.w.HistoryMax)
	n := lo + e.rng.IntN(e.w.HistoryMax-lo+1)
	hist := make([]byte, 0, 2+n*65)
	hist = append(hist, '[')
	for i := range n {
		if i > 0 {
			hist = append(hist, ',')
		}
		e.seq++
		hist = append(append(append(hist, '"'), e.messageID(user)...), '"')
	}
	hist = append(hist, ']')
	cur := stages[e.rng.IntN(len(stages))]
	data = append(e.profile(user, now),
		field(keyCurrentStage, jsonString(cur)),
		field(keyPrevStage, jsonString(stages[e.rng.IntN(len(stages))])),
		field(keyLastActivity, isoTime(now)),
		field(keyDebounce, strconv.AppendInt(nil, now.UnixMilli(), 10)),
		field(keyMsgID, jsonString(string(e.messageID(user)))),
		field(keyHistory, hist),
		field(keyCheckpoint, jsonString(cur)),
		field(keyRetryCount, []byte(strconv.Itoa(e.rng.IntN(3)))),
	)
	for range e.rng.IntN(5) {
		props = append(props, field(propKeys[e.rng.IntN(len(propKeys))], e.propValue()))
	}
	return data, props
}

// profile returns what the login hook of a session stores.
func (e *engine) profile(user int, now time.Time) []session.Field {
	msisdn := msisdnOf(user)
	var tok [24]byte
	for i := 0; i < len(tok); i += 8 {
		binary.LittleEndian.PutUint64(tok[i:], e.rng.Uint64())
	}
	auth := fmt.Sprintf(`{"token":"%s","user_id":"U%07d","msisdn":"%s","roles":["customer"],"channel":"whatsapp","issued_at":"%s","scope":"accounts:read payments:write"}`,
		base64.RawURLEncoding.EncodeToString(tok[:]), user, msisdn, now.UTC().Format(time.RFC3339))
	return []session.Field{
		field(keyAuthSession, []byte(auth)),
		field(keyAuthExpire, isoTime(now.Add(30*time.Minute))),
		field(keyAuthMSISDN, jsonString(msisdn)),
		field(keyExpiry, isoTime(now.Add(24*time.Hour))),
		field(keyUserName, jsonString(fmt.Sprintf("User %d", user))),
	}
}

// messageID returns a WhatsApp-like message id (62 bytes, "wamid.HBgM...").
func (e *engine) messageID(user int) []byte {
	var raw [42]byte
	binary.BigEndian.PutUint64(raw[0:], uint64(user))
	binary.BigEndian.PutUint64(raw[8:], e.seq)
	for i := 16; i+8 <= len(raw); i += 8 {
		binary.LittleEndian.PutUint64(raw[i:], e.rng.Uint64())
	}
	out := make([]byte, 6, 6+base64.RawURLEncoding.EncodedLen(len(raw)))
	copy(out, "wamid.")
	return base64.RawURLEncoding.AppendEncode(out, raw[:])
}

// propValue returns a small JSON string answer (10-60 bytes).
func (e *engine) propValue() []byte {
	const letters = "abcdefghijklmnopqrstuvwxyz "
	b := make([]byte, 8+e.rng.IntN(50))
	for i := range b {
		b[i] = letters[e.rng.IntN(len(letters))]
	}
	return jsonString(string(b))
}

func field(k string, v []byte) session.Field { return session.Field{Key: k, Value: v} }

// jsonString encodes s as a JSON string; s holds no characters to escape.
func jsonString(s string) []byte {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// isoTime is Python's datetime.isoformat() as pywce stores it, JSON-encoded.
func isoTime(t time.Time) []byte {
	return jsonString(t.Format("2006-01-02T15:04:05.000000"))
}

// msisdnOf is the WhatsApp number of user, which is also its session id.
func msisdnOf(user int) string {
	return fmt.Sprintf("2637%08d", user)
}
