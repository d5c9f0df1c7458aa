package cluster

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
)

// NewLogWriter returns an io.Writer that turns the line logs of HashiCorp
// libraries ("[WARN] memberlist: ...", hclog's "[INFO]  raft: ...") into
// slog records at the matching level. Lines about known misconfigurations
// (gossip key mismatch, a foreign protocol on the gossip port) get a hint
// attribute saying what is probably wrong.
func NewLogWriter(logger *slog.Logger) io.Writer {
	return &logWriter{log: logger}
}

type logWriter struct {
	log *slog.Logger
}

// hints maps substrings of memberlist's messages to an explanation.
var hints = []struct{ match, hint string }{
	{"No installed keys could decrypt", "gossip key mismatch: this peer's gossip encryption key differs from ours"},
	{"Decrypt packet failed", "gossip key mismatch: this peer's gossip encryption key differs from ours"},
	{"encryption is not configured", "gossip key mismatch: the peer encrypts gossip and we have no key"},
	{"remote state is not encrypted", "gossip key mismatch: we encrypt gossip and the peer has no key"},
	{"Received invalid msgType", "a peer speaking another protocol (RESP client, internal transport) connected to the gossip port"},
	{"unacceptable label", "a member of another cluster (different cluster name) contacted us"},
}

func (w *logWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		w.line(string(line))
	}
	return len(p), nil
}

func (w *logWriter) line(s string) {
	level := slog.LevelInfo
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			switch s[i+1 : i+j] {
			case "TRACE", "DEBUG":
				level = slog.LevelDebug
			case "WARN":
				level = slog.LevelWarn
			case "ERR", "ERROR":
				level = slog.LevelError
			}
			s = strings.TrimSpace(s[i+j+1:])
		}
	}
	if !w.log.Enabled(context.Background(), level) {
		return
	}
	for _, h := range hints {
		if strings.Contains(s, h.match) {
			w.log.Log(context.Background(), level, s, "hint", h.hint)
			return
		}
	}
	w.log.Log(context.Background(), level, s)
}
