package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sessiongrid/sessiongrid/internal/testpoll"
)

// dialRaw connects to the transport port of srv with a plain socket.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func hello(ch Channel) []byte {
	b := append([]byte{}, Magic[:]...)
	b = append(b, Version, byte(ch))
	return append(b, bytes.Repeat([]byte{7}, nonceSize)...)
}

// A peer that has not proved the secret receives nothing computed from it:
// the listener's reply is the magic, version, status and its nonce, and a
// wrong proof gets one status byte and the connection closed. (Protocol
// version 1 sent an HMAC of the secret in the first reply, which let
// anyone guess a weak secret offline.)
func TestHandshakeRevealsNothingBeforeProof(t *testing.T) {
	srv, srvLog := newTransport(t, func(c *Config) { c.Secret = []byte("weak") })
	c := dialRaw(t, srv.Addr())
	if _, err := c.Write(hello(ChannelTransport)); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, replySize)
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(reply[:4], Magic[:]) || reply[4] != Version || reply[5] != statusOK {
		t.Fatalf("reply = %x", reply)
	}
	// A guessed proof: the listener answers one refusal byte and hangs up.
	guess := mac([]byte("guess"), "client", ChannelTransport, bytes.Repeat([]byte{7}, nonceSize), reply[6:])
	if _, err := c.Write(guess); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rest, []byte{statusAuthFailed}) {
		t.Fatalf("after a wrong proof the listener sent %x, want only the refusal byte", rest)
	}
	testpoll.Until(t, 10*time.Second, "the refusal in the log", func() bool { return srvLog.contains("shared secret") })
}

// A listener without the secret cannot pose as a member: the dialer checks
// the listener's proof after sending its own.
func TestHandshakeChecksListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		h := make([]byte, helloSize)
		if _, err := io.ReadFull(c, h); err != nil {
			return
		}
		r := append(append([]byte{}, Magic[:]...), Version, statusOK)
		r = append(r, make([]byte, nonceSize)...)
		_, _ = c.Write(r)
		_, _ = io.ReadFull(c, make([]byte, macSize))
		_, _ = c.Write(append([]byte{statusOK}, make([]byte, macSize)...)) // a forged proof
		_, _ = io.Copy(io.Discard, c)
	}()
	defer func() { <-done }()
	cli, _ := newTransport(t, func(c *Config) { c.Secret = []byte("s3cret") })
	_, err = cli.Call(context.Background(), ln.Addr().String(), 1, nil)
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
}

// A RESP client's short PING is told it reached the wrong port at once,
// without waiting for a hello's worth of bytes.
func TestShortWrongProtocolAnsweredAtOnce(t *testing.T) {
	srv, _ := newTransport(t, nil)
	c := dialRaw(t, srv.Addr())
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, _ := io.ReadAll(c)
	if string(got) != WrongPortReply {
		t.Fatalf("reply = %q", got)
	}
	if d := time.Since(start); d >= time.Second { // the handshake timeout of the local config
		t.Fatalf("the reply took %v: the listener waited for more bytes", d)
	}
}

// A dialer of another member channel is told which port it reached.
func TestHandshakeChannelMismatch(t *testing.T) {
	srv, _ := newTransport(t, nil)
	cli, _ := newTransport(t, nil)
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = cli.Authenticator().Client(context.Background(), c, ChannelRaft)
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "not a Raft port") {
		t.Fatalf("err = %v", err)
	}
}

// A version-1 dialer reads the whole (padded) refusal and reports the
// version instead of timing out.
func TestHandshakeOldVersionRefused(t *testing.T) {
	srv, _ := newTransport(t, nil)
	c := dialRaw(t, srv.Addr())
	h := hello(ChannelTransport)
	h[4] = 1
	if _, err := c.Write(h); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, v1ReplySize)
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatal(err)
	}
	if reply[4] != Version || reply[5] != statusBadVersion {
		t.Fatalf("reply = %x", reply)
	}
}

// Junk on the port is refused every time, but logged at most
// refusalLogBurst times a minute.
func TestJunkConnectionsLogRateLimited(t *testing.T) {
	srv, sink := newTransport(t, nil)
	const junk = 3 * refusalLogBurst
	for i := range junk {
		c := dialRaw(t, srv.Addr())
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(c); string(got) != WrongPortReply {
			t.Fatalf("connection %d: reply = %q, want the wrong-port reply", i, got)
		}
		c.Close()
	}
	// Every refusal is logged before its connection closes, so all have
	// been counted once the last reply has been read.
	count := func() int {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		n := 0
		for _, l := range sink.lines {
			if strings.Contains(l, "refused a connection") {
				n++
			}
		}
		return n
	}
	if n := count(); n != refusalLogBurst {
		t.Fatalf("%d junk connections wrote %d refusal lines, want %d", junk, n, refusalLogBurst)
	}
}

// Another member channel's listener (Raft's) answers a short PING at once
// too, naming its port.
func TestOtherChannelAnswersWrongProtocolAtOnce(t *testing.T) {
	tr, _ := newTransport(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer nc.Close()
		_, err = tr.Authenticator().Server(nc, ChannelRaft)
		done <- err
	}()
	c := dialRaw(t, ln.Addr().String())
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, _ := io.ReadAll(c)
	if want := "-ERR this is the sessiongrid Raft port, not a RESP or gossip port\r\n"; string(got) != want {
		t.Fatalf("reply = %q, want %q", got, want)
	}
	if d := time.Since(start); d >= time.Second { // the handshake timeout of the local config
		t.Fatalf("the reply took %v: the listener waited for more bytes", d)
	}
	if err := <-done; !errors.Is(err, ErrProtocol) {
		t.Fatalf("Server: %v, want ErrProtocol", err)
	}
}
