package server

import (
	"context"
	"errors"

	"github.com/sessiongrid/sessiongrid/session"
)

// Error replies with a fixed text.
const (
	msgWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	msgNotInteger = "ERR value is not an integer or out of range"
)

// errorCodes maps the session sentinels to the first word of the error
// reply. The remote client maps the codes back with the same table.
var errorCodes = []struct {
	err  error
	code string
}{
	{session.ErrInvalidID, "INVALIDID"},
	{session.ErrInvalidKey, "INVALIDKEY"},
	{session.ErrTooLarge, "TOOLARGE"},
	{session.ErrUnavailable, "UNAVAILABLE"},
	{session.ErrClosed, "UNAVAILABLE"},
	{context.Canceled, "UNAVAILABLE"},
	{context.DeadlineExceeded, "UNAVAILABLE"},
}

// storeError appends the error reply of a backend error.
func (c *conn) storeError(err error) {
	if errors.Is(err, session.ErrWrongType) {
		c.out.error(msgWrongType)
		return
	}
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			c.out.error(e.code + " " + err.Error())
			return
		}
	}
	c.out.error("ERR " + err.Error())
}
