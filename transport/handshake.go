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
)

// Magic opens every connection of the internal transport. It is chosen not
// to look like RESP (which starts with '*', '+', '-', '$' or a letter of an
// inline command followed by text) nor like a memberlist message (a small
// type byte).
var Magic = [4]byte{0xA7, 'S', 'G', 'T'}

// Version is the protocol version sent in the handshake.
const Version uint8 = 1

const (
	nonceSize = 16
	macSize   = sha256.Size

	helloSize = 4 + 1 + 1 + nonceSize           // magic, version, flags, nonce
	replySize = 4 + 1 + 1 + nonceSize + macSize // magic, version, status, nonce, mac

	statusOK         = 0
	statusBadVersion = 1
	statusAuthFailed = 2
)

// WrongPortReply is what a listener writes to a peer that did not open with
// Magic, before closing: a RESP error line, so that a redis-cli pointed at
// the wrong port prints something useful.
const WrongPortReply = "-ERR this is the sessiongrid internal transport port, not a RESP or gossip port\r\n"

func newNonce() ([nonceSize]byte, error) {
	var n [nonceSize]byte
	_, err := rand.Read(n[:])
	return n, err
}

func mac(secret []byte, label string, a, b []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	h.Write(a)
	h.Write(b)
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
func clientHandshake(c net.Conn, secret []byte) error {
	nc, err := newNonce()
	if err != nil {
		return err
	}
	hello := make([]byte, 0, helloSize)
	hello = append(hello, Magic[:]...)
	hello = append(hello, Version, 0)
	hello = append(hello, nc[:]...)
	if _, err := c.Write(hello); err != nil {
		return fmt.Errorf("send handshake: %w", err)
	}
	reply := make([]byte, replySize)
	n, err := io.ReadFull(c, reply)
	if n >= 4 && !bytes.Equal(reply[:4], Magic[:]) {
		return fmt.Errorf("%w: the peer is not a sessiongrid internal transport port (it replied %q): check the address is the peer's transport address, not its RESP or gossip port",
			ErrProtocol, reply[:n])
	}
	if err != nil {
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Errorf("%w: no handshake reply: the peer is probably not a sessiongrid internal transport port (a RESP or gossip port waits silently)", ErrProtocol)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%w: the peer closed the connection during the handshake (after %d bytes %q): it is probably not a sessiongrid internal transport port",
				ErrProtocol, n, reply[:n])
		}
		return fmt.Errorf("read handshake reply: %w", err)
	}
	switch reply[5] {
	case statusOK:
	case statusBadVersion:
		return fmt.Errorf("%w: the peer speaks protocol version %d, we speak %d", ErrProtocol, reply[4], Version)
	default:
		return fmt.Errorf("%w: handshake refused with status %d", ErrProtocol, reply[5])
	}
	ns := reply[6 : 6+nonceSize]
	if !hmac.Equal(reply[6+nonceSize:], mac(secret, "server", nc[:], ns)) {
		return fmt.Errorf("%w: the peer does not hold our shared secret (secrets differ, or one side has none)", ErrAuth)
	}
	if _, err := c.Write(mac(secret, "client", ns, nc[:])); err != nil {
		return fmt.Errorf("send handshake proof: %w", err)
	}
	var status [1]byte
	if _, err := io.ReadFull(c, status[:]); err != nil {
		return fmt.Errorf("%w: the peer closed the connection after our proof (its secret differs?): %v", ErrAuth, err)
	}
	if status[0] != statusOK {
		return fmt.Errorf("%w: the peer refused our proof: shared secrets differ", ErrAuth)
	}
	return nil
}

// serverHandshake runs the listener's side. On a protocol mismatch it writes
// WrongPortReply. The connection has a deadline set by the caller.
func serverHandshake(c net.Conn, secret []byte) error {
	hello := make([]byte, helloSize)
	n, err := io.ReadFull(c, hello)
	if (n > 0 && !bytes.HasPrefix(Magic[:], hello[:min(n, 4)])) || (n >= 4 && !bytes.Equal(hello[:4], Magic[:])) {
		_, _ = c.Write([]byte(WrongPortReply))
		return fmt.Errorf("%w: a peer connected to the internal transport port without the transport's magic; %s", ErrProtocol, describePeerBytes(hello[:n]))
	}
	if err != nil {
		return fmt.Errorf("%w: incomplete handshake (%d bytes): %v", ErrProtocol, n, err)
	}
	ns, err := newNonce()
	if err != nil {
		return err
	}
	nc := hello[6:]
	reply := make([]byte, 0, replySize)
	reply = append(reply, Magic[:]...)
	status := byte(statusOK)
	if hello[4] != Version {
		status = statusBadVersion
	}
	reply = append(reply, Version, status)
	reply = append(reply, ns[:]...)
	reply = append(reply, mac(secret, "server", nc, ns[:])...)
	if _, err := c.Write(reply); err != nil {
		return fmt.Errorf("send handshake reply: %w", err)
	}
	if status != statusOK {
		return fmt.Errorf("%w: peer speaks protocol version %d, we speak %d", ErrProtocol, hello[4], Version)
	}
	proof := make([]byte, macSize)
	if _, err := io.ReadFull(c, proof); err != nil {
		// The client closes here when our proof did not match its secret.
		return fmt.Errorf("%w: the peer hung up before proving the shared secret (its secret differs?): %v", ErrAuth, err)
	}
	if !hmac.Equal(proof, mac(secret, "client", ns[:], nc)) {
		_, _ = c.Write([]byte{statusAuthFailed})
		return fmt.Errorf("%w: the peer does not hold our shared secret (secrets differ, or one side has none)", ErrAuth)
	}
	_, err = c.Write([]byte{statusOK})
	return err
}
