package session_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// newExampleManager returns a manager over a fresh in-memory store.
func newExampleManager() session.Manager {
	store, err := memory.New(memory.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	return session.NewManager(store, session.Config{})
}

// A Manager over the in-memory store: save a value in a user's session and
// read it back.
func ExampleNewManager() {
	ctx := context.Background()
	store, err := memory.New(memory.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	m := session.NewManager(store, session.Config{})
	defer m.Close(ctx)

	// The session id is the user's WhatsApp number.
	if err := m.Save(ctx, "263771234567", "stage", "menu"); err != nil {
		log.Fatal(err)
	}
	stage, err := m.Load(ctx, "263771234567", "stage")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(stage)
	// Output: menu
}

// Get decodes a stored value straight into a Go type.
func ExampleGet() {
	ctx := context.Background()
	m := newExampleManager()
	defer m.Close(ctx)

	type Auth struct {
		Token   string   `json:"token"`
		Roles   []string `json:"roles"`
		Expires int64    `json:"expires"`
	}
	err := m.Save(ctx, "263771234567", "auth", Auth{Token: "t-1", Roles: []string{"buyer"}, Expires: 1767225600})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := session.Get[Auth](ctx, m, "263771234567", "auth")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %v %d\n", auth.Token, auth.Roles, auth.Expires)
	// Output: t-1 [buyer] 1767225600
}

// A Handle is the session of one user: the manager's operations without
// the id.
func ExampleManager_Session() {
	ctx := context.Background()
	m := newExampleManager()
	defer m.Close(ctx)

	user := m.Session("263771234567")
	if err := user.SaveAll(ctx, map[string]any{"stage": "ask-name", "retries": 0}); err != nil {
		log.Fatal(err)
	}
	retries, err := session.HandleGet[int](ctx, user, "retries")
	if err != nil {
		log.Fatal(err)
	}
	all, err := user.FetchAll(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.ID(), retries, all)
	// Output: 263771234567 0 map[retries:0 stage:ask-name]
}

// Clear with a retain list removes every data key except the ones named
// exactly, and keeps the user's props.
func ExampleManager_Clear() {
	ctx := context.Background()
	m := newExampleManager()
	defer m.Close(ctx)

	user := m.Session("263771234567")
	_ = user.SaveAll(ctx, map[string]any{"stage": "checkout", "stage_prev": "cart", "auth": "token"})
	_ = user.SaveProp(ctx, "name", "Ada")

	// On an auth timeout, keep only where the user was.
	if err := user.Clear(ctx, "stage"); err != nil {
		log.Fatal(err)
	}
	data, _ := user.FetchAll(ctx)
	props, _ := user.Props(ctx)
	fmt.Println(data, props)

	// Without a retain list the whole session goes, props included.
	_ = user.Clear(ctx)
	data, _ = user.FetchAll(ctx)
	props, _ = user.Props(ctx)
	fmt.Println(data, props)
	// Output:
	// map[stage:checkout] map[name:Ada]
	// map[] map[]
}

// Props hold the answers a user gave to templates, beside the session's
// data keys.
func ExampleManager_EvictProp() {
	ctx := context.Background()
	m := newExampleManager()
	defer m.Close(ctx)

	const id = "263771234567"
	_ = m.SaveProp(ctx, id, "name", "Ada")
	_ = m.SaveProp(ctx, id, "age", 36)
	age, _ := session.GetProp[int](ctx, m, id, "age")
	fmt.Println("age:", age)

	existed, _ := m.EvictProp(ctx, id, "age")
	fmt.Println("evicted:", existed)
	existed, _ = m.EvictProp(ctx, id, "age")
	fmt.Println("evicted again:", existed)
	props, _ := m.Props(ctx, id)
	fmt.Println(props)
	// Output:
	// age: 36
	// evicted: true
	// evicted again: false
	// map[name:Ada]
}

// Globals are shared by every session, in a namespace of their own: not even
// a session with the id "global" reaches them.
func ExampleGetGlobal() {
	ctx := context.Background()
	m := newExampleManager()
	defer m.Close(ctx)

	_ = m.SaveGlobal(ctx, "rates", map[string]float64{"USD": 1, "ZWG": 26.5})
	_ = m.Save(ctx, "global", "rates", "a session's own key")

	rates, err := session.GetGlobal[map[string]float64](ctx, m, "rates")
	if err != nil {
		log.Fatal(err)
	}
	own, _ := m.Load(ctx, "global", "rates")
	fmt.Println(rates["ZWG"], own)
	// Output: 26.5 a session's own key
}

// Reading a key or a session that does not exist gives an error matching
// ErrNotFound; reading a collection gives an empty map.
func Example_notFound() {
	ctx := context.Background()
	m := newExampleManager()
	defer m.Close(ctx)

	_, err := session.Get[string](ctx, m, "263771234567", "stage")
	if errors.Is(err, session.ErrNotFound) {
		fmt.Println("no stage yet: start the flow")
	}
	all, err := m.FetchAll(ctx, "263771234567")
	fmt.Println(len(all), err)
	// Output:
	// no stage yet: start the flow
	// 0 <nil>
}

// Listen tells a bot when a user's session expires or is deleted, in the
// style of Hazelcast's entry listeners: the callback runs in the
// listener's own goroutine, so it may send the user a message.
func ExampleListen() {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	store, err := memory.New(memory.Config{Now: clock, SweepInterval: -1, DefaultIdle: 30 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	m := session.NewManager(store, session.Config{})
	defer m.Close(ctx)

	events := make(chan session.Event)
	l, err := session.Listen(m, func(e session.Event) { events <- e })
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	m.Save(ctx, "263771234567", "stage", "menu")
	m.Save(ctx, "263779999999", "stage", "menu")
	m.Clear(ctx, "263779999999") // the user said "stop"
	e := <-events
	fmt.Println(e.Type, e.ID)

	mu.Lock()
	now = now.Add(31 * time.Minute) // the idle timeout runs out
	mu.Unlock()
	store.Sweep(ctx) // the background sweep, run now
	e = <-events
	fmt.Println(e.Type, e.ID)
	// Output:
	// deleted 263779999999
	// expired 263771234567
}
