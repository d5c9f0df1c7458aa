package transport

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// Errors of the transport. Failures to reach a peer are also wrapped with
// session.ErrUnavailable: a request that failed that way may or may not have
// been applied by the peer.
var (
	// ErrProtocol reports a peer that does not speak this protocol (wrong
	// port, wrong magic, unsupported version) or a malformed frame.
	ErrProtocol = errors.New("transport: protocol error")
	// ErrAuth reports a failed shared-secret authentication.
	ErrAuth = errors.New("transport: authentication failed")
	// ErrFrameTooLarge reports a frame over the configured maximum size.
	ErrFrameTooLarge = errors.New("transport: frame too large")
	// ErrConnect reports a failure to connect to a peer (dial or
	// handshake): the request was not sent, so retrying it is safe.
	ErrConnect = errors.New("transport: could not connect (request not sent)")
	// ErrNoHandler reports a request for a message type nobody handles.
	ErrNoHandler = errors.New("transport: no handler for message type")
)

// errorCodes is the one static table between Go errors and the codes error
// frames carry. Codes are part of the wire format: never renumber them.
var errorCodes = []struct {
	code uint16
	err  error
}{
	{1, session.ErrNotFound},
	{2, session.ErrInvalidID},
	{3, session.ErrInvalidKey},
	{4, session.ErrTooLarge},
	{5, session.ErrWrongType},
	{6, session.ErrClosed},
	{7, session.ErrCodec},
	{8, session.ErrUnavailable},
	{9, ErrNoHandler},
	{10, ErrFrameTooLarge},
	{11, ErrProtocol},
	{12, context.DeadlineExceeded}, // the peer's handler ran out of time
}

// codeOf returns the wire code of err (0 when no sentinel matches).
func codeOf(err error) uint16 {
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	return 0
}

// sentinelOf returns the sentinel of a wire code, nil when unknown.
func sentinelOf(code uint16) error {
	for _, e := range errorCodes {
		if e.code == code {
			return e.err
		}
	}
	return nil
}

// RemoteError is an error a peer's handler returned. It unwraps to the
// session sentinel its code stands for, so errors.Is(err, session.ErrNotFound)
// holds for a remote "not found".
type RemoteError struct {
	// Peer is the address the request was sent to.
	Peer string
	// Code is the wire code (0: no sentinel matched on the peer).
	Code uint16
	// Message is the peer's error text.
	Message string
}

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("peer %s: %s", e.Peer, e.Message)
}

// Unwrap returns the sentinel of the error's code. A peer's handler that ran
// out of time also unwraps to session.ErrUnavailable: the request may or may
// not have been applied.
func (e *RemoteError) Unwrap() []error {
	s := sentinelOf(e.Code)
	switch {
	case s == nil:
		return nil
	case errors.Is(s, context.DeadlineExceeded):
		return []error{s, session.ErrUnavailable}
	}
	return []error{s}
}
