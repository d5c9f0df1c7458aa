package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/sessiongrid/sessiongrid/client"
	"github.com/sessiongrid/sessiongrid/server"
	"github.com/sessiongrid/sessiongrid/session"
	"github.com/sessiongrid/sessiongrid/session/memory"
)

// startGridnode runs a gridnode server in-process on a free loopback port,
// as cmd/gridnode does on its own; stop shuts it down.
func startGridnode() (addr string, stop func()) {
	store, err := memory.New(memory.Config{})
	if err != nil {
		panic(err)
	}
	srv, err := server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, store)
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(l); close(done) }()
	return l.Addr().String(), func() {
		srv.Shutdown(context.Background())
		<-done
		store.Close(context.Background())
	}
}

// A bot connects to gridnode and keeps a user's conversation state there,
// readable by every bot instance.
func Example() {
	addr, stop := startGridnode()
	defer stop()
	ctx := context.Background()

	m, err := client.DialManager(ctx, client.RemoteConfig{Addr: addr})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close(ctx)

	user := m.Session("263771234567") // the WhatsApp number is the session id
	user.Save(ctx, "pywce_current_stage", "MAIN-MENU")
	user.SaveProp(ctx, "name", "Tariro")

	stage, _ := session.HandleGet[string](ctx, user, "pywce_current_stage")
	name, _ := session.HandleGetProp[string](ctx, user, "name")
	fmt.Println(stage, name)

	_, err = user.Load(ctx, "pywce_checkpoint")
	fmt.Println(errors.Is(err, session.ErrNotFound))
	// Output:
	// MAIN-MENU Tariro
	// true
}

// NewRemote gives the byte-level session.Store, for a manager with another
// codec or for code that handles encoded values itself.
func ExampleNewRemote() {
	addr, stop := startGridnode()
	defer stop()
	ctx := context.Background()

	r, err := client.NewRemote(client.RemoteConfig{Addr: addr, PoolSize: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close(ctx)

	added, _ := r.Save(ctx, "263771234567",
		session.Field{Key: "pywce_current_stage", Value: []byte(`"MAIN-MENU"`)},
		session.Field{Key: "pywce_prev_stage", Value: []byte(`"START-MENU"`)})
	ttl, _ := r.TTL(ctx, "263771234567")
	fmt.Println(added, ttl.Round(time.Second)) // new sessions idle out after 30 min
	// Output:
	// 2 30m0s
}
