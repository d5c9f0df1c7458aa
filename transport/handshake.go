package transport

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// Magic opens every connection of the internal transport. It is chosen not
// to look like RESP (which starts with '*', '+', '-', '$' or a letter of an
// inline command followed by text) nor like a memberlist message (a small
// type byte).
var Magic = [4]byte{0xA7, 'S', 'G', 'T'}

// Version is the protocol version sent in the handshake. Version 2 made the
// dialer prove the secret first (version 1 answered every hello with an
// HMAC of the secret, which let anyone guess a weak secret offline) and
// added the channel byte.
const Version uint8 = 2

// Channel names the member port a handshake opens. The proofs cover it, so a
// proof made for one channel is worthless on another, and a peer that dials
// the wrong member port is told so.
type Channel uint8

const (
	// ChannelTransport is the internal transport (this package).
	ChannelTransport Channel = 0
	// ChannelRaft is the globals' Raft port (package replication).
	ChannelRaft Channel = 1
)

func (c Channel) String() string {
	switch c {
	case ChannelTransport:
		return "internal transport"
	case ChannelRaft:
		return "Raft"
	}
	return fmt.Sprintf("channel %d", uint8(c))
}

// The handshake, dialer (client) and listener (server):
//
//	client → hello:  magic, version, channel, nonce_c
//	server → reply:  magic, version, status, nonce_s
//	client → proof:  HMAC(secret, "client", channel, nonce_c, nonce_s)
//	server → status, and when OK: HMAC(secret, "server", channel, nonce_c, nonce_s)
//
// The server reveals nothing computed from the secret until the client has
// proved it holds the secret, so an attacker who connects learns nothing to
// guess the secret with offline. The client checks the server's proof, so
// a listener without the secret cannot pose as a member either. An empty
// secret makes every proof computable by anyone: the handshake then only
// tells ports apart.
const (
	nonceSize = 16
	macSize   = sha256.Size

	helloSize = 4 + 1 + 1 + nonceSize // magic, version, channel, nonce
	replySize = 4 + 1 + 1 + nonceSize // magic, version, status, nonce

	// v1ReplySize is the reply of protocol version 1; a listener pads a
	// version refusal to it so that a version-1 dialer reads it at once.
	v1ReplySize = replySize + macSize

	statusOK           = 0
	statusBadVersion   = 1
	statusAuthFailed   = 2
	statusWrongChannel = 3
)

// WrongPortReply is what a listener writes to a peer that did not open with
// Magic, before closing: a RESP error line, so that a redis-cli pointed at
// the wrong port prints something useful.
const WrongPortReply = "-ERR this is the sessiongrid internal transport port, not a RESP or gossip port\r\n"

// wrongPortReply is WrongPortReply for the port of channel ch.
func wrongPortReply(ch Channel) string {
	if ch == ChannelTransport {
		return WrongPortReply
	}
	return "-ERR this is the sessiongrid " + ch.String() + " port, not a RESP or gossip port\r\n"
}

func newNonce() ([nonceSize]byte, error) {
	var n [nonceSize]byte
	_, err := rand.Read(n[:])
	return n, err
}

func mac(secret []byte, label string, ch Channel, nc, ns []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	h.Write([]byte{byte(ch)})
	h.Write(nc)
	h.Write(ns)
	return h.Sum(nil)
}

// describePeerBytes names what a peer that sent b probably is.
func describePeerBytes(b []byte) string {
	switch {
	case len(b) == 0:
		return "it sent nothing"
	case bytes.ContainsAny(b[:1], "*+-$:") || bytes.HasPrefix(bytes.ToUpper(b), []byte("PING")):
		return fmt.Sprintf("it looks like a RESP (Redis protocol) client: %q", b)
	case b[0] < 32:
		return fmt.Sprintf("it looks like a memberlist gossip peer (message type %d): %q", b[0], b)
	case bytes.HasPrefix(b, []byte("GET ")) || bytes.HasPrefix(b, []byte("POST")):
		return fmt.Sprintf("it looks like an HTTP client: %q", b)
	}
	return fmt.Sprintf("unrecognised bytes %q", b)
}

// clientHandshake runs the dialer's side. The connection has a deadline set
// by the caller.
func clientHandshake(c net.Conn, secret []byte, ch Channel) error {
	nc, err := newNonce()
	if err != nil {
		return err
	}
	hello := make([]byte, 0, helloSize)
	hello = append(hello, Magic[:]...)
	hello = append(hello, Version, byte(ch))
	hello = append(hello, nc[:]...)
	if _, err := c.Write(hello); err != nil {
		return fmt.Errorf("send handshake: %w", err)
	}
	reply := make([]byte, replySize)
	n, err := io.ReadFull(c, reply)
	if n >= 4 && !bytes.Equal(reply[:4], Magic[:]) {
		return fmt.Errorf("%w: the peer is not a sessiongrid %s port (it replied %q): check the address is the peer's %s address, not its RESP or gossip port",
			ErrProtocol, ch, reply[:n], ch)
	}
	if err != nil {
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Errorf("%w: no handshake reply: the peer is probably not a sessiongrid %s port (a RESP or gossip port waits silently)", ErrProtocol, ch)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
			// A reset: the peer closed with our handshake unread.
			return fmt.Errorf("%w: the peer closed the connection during the handshake (after %d bytes %q): it is probably not a sessiongrid %s port",
				ErrProtocol, n, reply[:n], ch)
		}
		return fmt.Errorf("read handshake reply: %w", err)
	}
	switch reply[5] {
	case statusOK:
	case statusBadVersion:
		return fmt.Errorf("%w: the peer speaks protocol version %d, we speak %d", ErrProtocol, reply[4], Version)
	case statusWrongChannel:
		return fmt.Errorf("%w: the peer's port is not a %s port (another member port of sessiongrid)", ErrProtocol, ch)
	default:
		return fmt.Errorf("%w: handshake refused with status %d", ErrProtocol, reply[5])
	}
	ns := reply[6 : 6+nonceSize]
	if _, err := c.Write(mac(secret, "client", ch, nc[:], ns)); err != nil {
		return fmt.Errorf("send handshake proof: %w", err)
	}
	answer := make([]byte, 1+macSize)
	if _, err := io.ReadFull(c, answer[:1]); err != nil {
		return fmt.Errorf("%w: the peer closed the connection after our proof (its secret differs?): %v", ErrAuth, err)
	}
	if answer[0] != statusOK {
		return fmt.Errorf("%w: the peer refused our proof: shared secrets differ (or one side has none)", ErrAuth)
	}
	if _, err := io.ReadFull(c, answer[1:]); err != nil {
		return fmt.Errorf("%w: read the peer's proof: %v", ErrAuth, err)
	}
	if !hmac.Equal(answer[1:], mac(secret, "server", ch, nc[:], ns)) {
		return fmt.Errorf("%w: the peer does not hold our shared secret (secrets differ, or one side has none)", ErrAuth)
	}
	return nil
}

// readHello reads the dialer's hello, returning as soon as the bytes read
// cannot be the magic (a RESP client's "PING\r\n" is refused at once).
func readHello(c net.Conn, hello []byte) (int, error) {
	n := 0
	for n < len(hello) {
		k, err := c.Read(hello[n:])
		n += k
		if !bytes.HasPrefix(Magic[:], hello[:min(n, 4)]) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// serverHandshake runs the listener's side. On a protocol mismatch it writes
// wrongPort (when not empty). The connection has a deadline set by the
// caller.
func serverHandshake(c net.Conn, secret []byte, ch Channel, wrongPort string) error {
	hello := make([]byte, helloSize)
	n, err := readHello(c, hello)
	if n > 0 && !bytes.HasPrefix(Magic[:], hello[:min(n, 4)]) {
		if wrongPort != "" {
			_, _ = c.Write([]byte(wrongPort))
		}
		return fmt.Errorf("%w: a peer connected to the %s port without the handshake's magic; %s", ErrProtocol, ch, describePeerBytes(hello[:n]))
	}
	if err != nil {
		return fmt.Errorf("%w: incomplete handshake (%d bytes): %v", ErrProtocol, n, err)
	}
	ns, err := newNonce()
	if err != nil {
		return err
	}
	nc := hello[6:]
	reply := make([]byte, 0, v1ReplySize)
	reply = append(reply, Magic[:]...)
	status := byte(statusOK)
	switch {
	case hello[4] != Version:
		status = statusBadVersion
	case Channel(hello[5]) != ch:
		status = statusWrongChannel
	}
	reply = append(reply, Version, status)
	reply = append(reply, ns[:]...)
	if status == statusBadVersion {
		reply = reply[:v1ReplySize] // zero padding: a version-1 dialer reads its whole reply
	}
	if _, err := c.Write(reply); err != nil {
		return fmt.Errorf("send handshake reply: %w", err)
	}
	switch status {
	case statusBadVersion:
		return fmt.Errorf("%w: peer speaks protocol version %d, we speak %d", ErrProtocol, hello[4], Version)
	case statusWrongChannel:
		return fmt.Errorf("%w: a peer dialed the %s port for the %s", ErrProtocol, ch, Channel(hello[5]))
	}
	proof := make([]byte, macSize)
	if _, err := io.ReadFull(c, proof); err != nil {
		return fmt.Errorf("%w: the peer hung up before proving the shared secret: %v", ErrAuth, err)
	}
	if !hmac.Equal(proof, mac(secret, "client", ch, nc, ns[:])) {
		_, _ = c.Write([]byte{statusAuthFailed})
		return fmt.Errorf("%w: the peer does not hold our shared secret (secrets differ, or one side has none)", ErrAuth)
	}
	answer := append([]byte{statusOK}, mac(secret, "server", ch, nc, ns[:])...)
	_, err = c.Write(answer)
	return err
}
