package transport

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Kind tells what a frame carries.
type Kind uint8

// Frame kinds.
const (
	// KindRequest is a request that expects a response with the same id.
	KindRequest Kind = 1
	// KindResponse is a successful response.
	KindResponse Kind = 2
	// KindError is a failed response: the payload is a 2-byte code and a
	// message.
	KindError Kind = 3
)

// HeaderSize is the size of the fixed frame header that follows the 4-byte
// length: kind (1), message type (2), request id (8), timeout in
// milliseconds (4).
const HeaderSize = 1 + 2 + 8 + 4

// Frame is one message on a connection.
type Frame struct {
	Kind Kind
	// Type is the message type (requests); responses echo it.
	Type uint16
	// ID matches a response to its request.
	ID uint64
	// TimeoutMillis is how long the sender waits for the response (requests
	// only, 0: no deadline).
	TimeoutMillis uint32
	// Payload is the message body.
	Payload []byte
}

// AppendFrame appends the encoding of f to dst.
func AppendFrame(dst []byte, f Frame) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(HeaderSize+len(f.Payload)))
	dst = append(dst, byte(f.Kind))
	dst = binary.BigEndian.AppendUint16(dst, f.Type)
	dst = binary.BigEndian.AppendUint64(dst, f.ID)
	dst = binary.BigEndian.AppendUint32(dst, f.TimeoutMillis)
	return append(dst, f.Payload...)
}

// ReadFrame reads one frame from r. A frame whose length is over maxSize
// (header included) returns ErrFrameTooLarge without reading its body; a
// frame shorter than a header or of an unknown kind returns ErrProtocol. The
// payload is a new slice owned by the caller.
func ReadFrame(r io.Reader, maxSize int) (Frame, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return Frame{}, err
	}
	n := binary.BigEndian.Uint32(lenBuf[:])
	if uint64(n) > uint64(maxSize) {
		return Frame{}, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, maxSize)
	}
	if n < HeaderSize {
		return Frame{}, fmt.Errorf("%w: frame of %d bytes is shorter than its header", ErrProtocol, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	return decodeBody(body)
}

// decodeBody decodes a frame body (everything after the length).
func decodeBody(body []byte) (Frame, error) {
	if len(body) < HeaderSize {
		return Frame{}, fmt.Errorf("%w: frame of %d bytes is shorter than its header", ErrProtocol, len(body))
	}
	f := Frame{
		Kind:          Kind(body[0]),
		Type:          binary.BigEndian.Uint16(body[1:3]),
		ID:            binary.BigEndian.Uint64(body[3:11]),
		TimeoutMillis: binary.BigEndian.Uint32(body[11:15]),
		Payload:       body[HeaderSize:],
	}
	switch f.Kind {
	case KindRequest, KindResponse:
	case KindError:
		if len(f.Payload) < 2 {
			return Frame{}, fmt.Errorf("%w: error frame without a code", ErrProtocol)
		}
	default:
		return Frame{}, fmt.Errorf("%w: unknown frame kind %d", ErrProtocol, f.Kind)
	}
	return f, nil
}

// errorPayload encodes an error frame's payload.
func errorPayload(code uint16, msg string) []byte {
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(msg)), code)
	return append(b, msg...)
}

// parseErrorPayload decodes an error frame's payload (validated by
// decodeBody to hold at least the code).
func parseErrorPayload(p []byte) (code uint16, msg string) {
	return binary.BigEndian.Uint16(p[:2]), string(p[2:])
}
