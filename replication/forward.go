package replication

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sessiongrid/sessiongrid/session"
)

// Message types of the globals on the internal transport. The range
// 0x0100–0x01FF is reserved for them.
const (
	// msgApply: hops (1 byte) then a command; response: 1 byte, the
	// command's boolean result.
	msgApply uint16 = 0x0101
	// msgRead: see readRequest; response: the value, or the encoded map.
	msgRead uint16 = 0x0102
	// msgProbe: a bootstrap probe, JSON both ways (see bootstrap.go).
	msgProbe uint16 = 0x0103
)

// Read operations.
const (
	readGet byte = 1
	readAll byte = 2
)

// readRequest is a read, local or forwarded.
type readRequest struct {
	op    byte
	stale bool
	key   string
}

// encode: hops (1), op (1), flags (1: bit 0 stale), key (rest).
func (r readRequest) encode(hops int) []byte {
	var flags byte
	if r.stale {
		flags = 1
	}
	return append([]byte{byte(hops), r.op, flags}, r.key...)
}

func decodeReadRequest(b []byte) (readRequest, int, error) {
	if len(b) < 3 || (b[1] != readGet && b[1] != readAll) || b[2] > 1 {
		return readRequest{}, 0, fmt.Errorf("%w: malformed globals read request", session.ErrInvalidKey)
	}
	return readRequest{op: b[1], stale: b[2] == 1, key: string(b[3:])}, int(b[0]), nil
}

// registerHandlers installs the globals' handlers on the transport.
func (g *Globals) registerHandlers() {
	g.tr.Handle(msgApply, g.handleApply)
	g.tr.Handle(msgRead, g.handleRead)
	g.tr.Handle(msgProbe, g.handleProbe)
}

func (g *Globals) handleApply(ctx context.Context, req []byte) ([]byte, error) {
	if g.closed.Load() {
		return nil, fmt.Errorf("globals: %w", session.ErrClosed)
	}
	if len(req) < 1 {
		return nil, fmt.Errorf("%w: empty globals write", session.ErrInvalidKey)
	}
	if _, _, _, err := decodeCommand(req[1:]); err != nil {
		return nil, fmt.Errorf("%w: %w", session.ErrInvalidKey, err)
	}
	existed, err := g.apply(ctx, req[1:], int(req[0]))
	if err != nil {
		return nil, err
	}
	if existed {
		return []byte{1}, nil
	}
	return []byte{0}, nil
}

func (g *Globals) handleRead(ctx context.Context, b []byte) ([]byte, error) {
	if g.closed.Load() {
		return nil, fmt.Errorf("globals: %w", session.ErrClosed)
	}
	req, hops, err := decodeReadRequest(b)
	if err != nil {
		return nil, err
	}
	return g.read(ctx, req, hops)
}

// probeRequest and probeResponse are the bootstrap handshake.
type probeRequest struct {
	From       string   `json:"from"`
	Candidates []string `json:"candidates"`
}

type probeResponse struct {
	HasState   bool     `json:"has_state,omitempty"`
	Busy       bool     `json:"busy,omitempty"` // promised to another bootstrapper
	NotServer  bool     `json:"not_server,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
}

func (g *Globals) handleProbe(_ context.Context, b []byte) ([]byte, error) {
	if g.closed.Load() {
		return nil, fmt.Errorf("globals: %w", session.ErrClosed)
	}
	var req probeRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("%w: malformed bootstrap probe: %v", session.ErrCodec, err)
	}
	var resp probeResponse
	switch {
	case !g.server:
		resp.NotServer = true
	case g.hasState():
		resp.HasState = true
	case !g.promise(req.From):
		resp.Busy = true
	default:
		for _, m := range g.candidates() {
			resp.Candidates = append(resp.Candidates, m.Name)
		}
	}
	return json.Marshal(resp)
}
