package server

import (
	"errors"

	"github.com/sessiongrid/sessiongrid/session"
)

// Error replies with a fixed text.
const (
	msgWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	msgNotInteger = "ERR value is not an integer or out of range"
)

// storeError appends the error reply of a backend error: the code of its
// session sentinel (session.ErrorCode, the table the clients read back
// with) and its text, or ERR when it has none.
func (c *conn) storeError(err error) {
	if errors.Is(err, session.ErrWrongType) {
		c.out.error(msgWrongType)
		return
	}
	if code := session.ErrorCode(err); code != "" {
		c.out.error(code + " " + err.Error())
		return
	}
	c.out.error("ERR " + err.Error())
}
