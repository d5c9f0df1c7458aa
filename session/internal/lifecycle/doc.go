// Package lifecycle is the open-to-close bookkeeping shared by the
// persistent session stores (session/file and session/bolt): a Gate admits
// operations until Close, which waits for the ones in flight, and owns the
// background sweeper goroutine that Close stops.
package lifecycle
