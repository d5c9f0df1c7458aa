package server

import (
	"context"
	"strings"
	"sync"
)

// Batcher is an optional capability of a Backend that replicates writes:
// the writes a batch of commands (a pipeline, a forwarded batch, a script)
// makes with the context BeginBatch returns may be held back from the
// backend's replicas until commit runs, so that the batch costs one round
// trip to them, and a script's writes reach them as one unit. commit
// returns once every such write is acknowledged, or an error: their
// outcome is then unknown, and the server replaces the replies of the
// batch's writes with it. No reply of such a write reaches a client before
// commit returns.
type Batcher interface {
	BeginBatch(ctx context.Context) (bctx context.Context, commit func() error)
}

// beginBatch starts a batch on c when the backend is a Batcher; end
// commits it and reports its error (nil without a batch).
func (c *conn) beginBatch() (end func() error) {
	b, ok := c.s.backend.(Batcher)
	if !ok {
		return func() error { return nil }
	}
	ctx, commit := b.BeginBatch(c.s.ctx)
	c.ctx = ctx
	return func() error {
		c.ctx = nil
		return commit()
	}
}

// isWriteCommand reports whether args is a command that writes.
func (c *conn) isWriteCommand(args [][]byte) bool {
	id := lookup(args[0])
	return id >= 0 && c.s.table[id].flags&flagWrite != 0
}

// unavailableReply is the reply of a write whose batch did not commit.
func unavailableReply(err error) []byte {
	return errorReply("UNAVAILABLE the backups did not acknowledge this batch's writes; they may or may not have been applied: " + errText(err))
}

// Pipelined forwarding in cluster mode. When the backend is a Forwarder
// and a client has pipelined several requests, the single-key data
// commands among them are gathered into a batch: those whose key this
// member owns run here in order, those of other members go to each owner
// in one round trip, all owners at once. Replies are written in request
// order. Commands on one key always go to one owner, in order, so a client
// sees its own writes; a command that is not a single-key data command
// ends the batch and runs after it, on its own.

// maxBatch bounds the requests gathered into one batch.
const maxBatch = 256

// batchable reports whether args is a single-key data command that may be
// forwarded in a batch.
func (c *conn) batchable(args [][]byte) bool {
	if !c.authed || c.ps != nil {
		return false
	}
	id := lookup(args[0])
	if id < 0 {
		return false
	}
	cmd := &c.s.table[id]
	if cmd.first != 1 || cmd.last != 1 || cmd.flags&(flagReadonly|flagWrite) == 0 {
		return false
	}
	if (cmd.arity > 0 && len(args) != cmd.arity) || len(args) < -cmd.arity {
		return false
	}
	return !strings.HasPrefix(cmd.name, "global.") && !strings.HasPrefix(cmd.name, "grid.")
}

// execPipelined runs args, and with it every batchable request already
// buffered, as one batch. It returns a request read while gathering that
// must run after the batch (nil if none) and a protocol error met while
// gathering (reported after the batch's replies).
func (c *conn) execPipelined(fw Forwarder, first [][]byte) (after [][]byte, perr error) {
	batch := [][][]byte{cloneArgs(first)}
	for len(batch) < maxBatch && c.rd.buffered() {
		args, ok, err := c.rd.next()
		if err != nil {
			perr = err
			break
		}
		if !ok {
			break
		}
		if !c.batchable(args) {
			after = cloneArgs(args)
			break
		}
		batch = append(batch, cloneArgs(args))
	}
	if len(batch) == 1 {
		c.exec(batch[0])
		return after, perr
	}
	c.runBatch(fw, batch)
	return after, perr
}

func cloneArgs(args [][]byte) [][]byte { return append([][]byte(nil), args...) }

// runBatch runs a batch: remote groups concurrently, local commands here.
func (c *conn) runBatch(fw Forwarder, batch [][][]byte) {
	owners := make([]string, len(batch))
	groups := map[string][]int{}
	for i, args := range batch {
		if o := fw.RemoteOwner(args[1]); o != "" {
			owners[i] = o
			groups[o] = append(groups[o], i)
		}
	}
	proto := int(c.proto.Load())
	remote := make([][]byte, len(batch))
	var wg sync.WaitGroup
	for owner, idx := range groups {
		cmds := make([][][]byte, len(idx))
		for j, i := range idx {
			cmds[j] = batch[i]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies, err := fw.Forward(c.s.ctx, owner, proto, cmds)
			for j, i := range idx {
				if err != nil || j >= len(replies) {
					remote[i] = errorReply("UNAVAILABLE forwarding to " + owner + " failed; the command may or may not have run: " + errText(err))
					continue
				}
				remote[i] = replies[j]
			}
		}()
	}
	// Local commands run now, while the remote ones travel; their replies
	// are cut out of the output buffer and put back in request order.
	// Their writes are replicated together (Batcher) while the remote ones
	// travel too.
	base := len(c.out.b)
	spans := make([][2]int, len(batch))
	end := c.beginBatch()
	for i, args := range batch {
		if owners[i] == "" {
			start := len(c.out.b)
			c.exec(args)
			spans[i] = [2]int{start - base, len(c.out.b) - base}
		}
	}
	cerr := end()
	wg.Wait()
	local := append([]byte(nil), c.out.b[base:]...)
	c.out.b = c.out.b[:base]
	for i, args := range batch {
		switch {
		case owners[i] != "":
			c.out.b = append(c.out.b, remote[i]...)
		case cerr != nil && c.isWriteCommand(args):
			c.out.b = append(c.out.b, unavailableReply(cerr)...)
		default:
			c.out.b = append(c.out.b, local[spans[i][0]:spans[i][1]]...)
		}
	}
}

func errorReply(msg string) []byte {
	msg = strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
	return []byte("-" + msg + "\r\n")
}

func errText(err error) string {
	if err == nil {
		return "short reply"
	}
	return err.Error()
}

// ExecBatch runs requests, in order, as an authenticated client of RESP
// version proto would (see Exec), with their writes replicated together
// (Batcher), and returns one reply per request. A member runs the
// pipelined batches other members forward to it with ExecBatch, and the
// transactions (a batch that starts with MULTI, see forwardTx) and WATCH
// numberings they forward.
func (s *Server) ExecBatch(proto int, cmds [][][]byte) [][]byte {
	switch {
	case len(cmds) > 0 && len(cmds[0]) == 1 && lookup(cmds[0][0]) == cmdMulti:
		return s.execForwardedTx(proto, cmds)
	case len(cmds) == 1 && len(cmds[0]) > 1 && string(cmds[0][0]) == txWatch:
		return [][]byte{s.txWatchReply(cmds[0][1:])}
	}
	c := &conn{s: s, authed: true, forwarded: true}
	c.proto.Store(int32(proto))
	c.out.resp3 = proto == 3
	c.lastCmd.Store(-1)
	replies := make([][]byte, len(cmds))
	spans := make([][2]int, len(cmds))
	end := c.beginBatch()
	for i, args := range cmds {
		start := len(c.out.b)
		switch {
		case len(args) == 0:
			c.out.b = append(c.out.b, errorReply("ERR empty request")...)
		case !c.batchable(args) && !isScriptEval(args) && !c.isOwned(args):
			c.out.b = append(c.out.b, errorReply("ERR '"+strings.ToLower(string(args[0]))+"' cannot be forwarded")...)
		default:
			c.exec(args)
		}
		spans[i] = [2]int{start, len(c.out.b)}
	}
	cerr := end()
	for i, args := range cmds {
		if cerr != nil && len(args) > 0 && c.isWriteCommand(args) {
			replies[i] = unavailableReply(cerr)
			continue
		}
		replies[i] = c.out.b[spans[i][0]:spans[i][1]:spans[i][1]]
	}
	return replies
}

// isScriptEval reports whether args is EVAL or EVAL_RO (a script a member
// forwards to the owner of its keys).
func isScriptEval(args [][]byte) bool {
	id := lookup(args[0])
	return id == cmdEval || id == cmdEvalRO
}

// Exec runs one request as an authenticated client of RESP version proto
// would, detached from any connection, and returns its reply. Only data
// commands run (single-key commands, SESSION.*, GLOBAL.*); others get an
// error reply. A member runs the batches other members forward to it with
// Exec.
func (s *Server) Exec(proto int, args [][]byte) []byte {
	if len(args) == 0 {
		return errorReply("ERR empty request")
	}
	c := &conn{s: s, authed: true}
	c.proto.Store(int32(proto))
	c.out.resp3 = proto == 3
	c.lastCmd.Store(-1)
	if !c.batchable(args) {
		return errorReply("ERR '" + strings.ToLower(string(args[0])) + "' cannot be forwarded")
	}
	c.exec(args)
	return c.out.b
}
