package server

import (
	"bytes"
	"time"
)

// Cross-protocol requests. A web page can make a browser send an HTTP
// request to any host and port it names; its body lines would then run as
// commands (a POST whose body is "SET k v"). As Redis does, a connection
// that sends the start of an HTTP request — a POST, a request line such as
// "GET / HTTP/1.1", or a Host: header — is closed at once, with nothing
// run and nothing answered, and the attempt is logged. The checks run only
// on the paths of unknown commands and arity errors, never on a valid
// command.

// httpRequestLine reports whether args is a line of an HTTP request.
func httpRequestLine(args [][]byte) bool {
	name := args[0]
	if bytes.EqualFold(name, []byte("post")) || bytes.EqualFold(name, []byte("host:")) {
		return true
	}
	// METHOD /path HTTP/1.1
	return len(args) == 3 && bytes.HasPrefix(args[1], []byte("/")) && bytes.HasPrefix(args[2], []byte("HTTP/"))
}

// refuseHTTP closes the connection when args is a line of an HTTP request,
// and reports whether it did.
func (c *conn) refuseHTTP(args [][]byte) bool {
	if c.id < 0 || !httpRequestLine(args) {
		return false
	}
	c.quit = true
	c.out.b = c.out.b[:0] // nothing for a browser to read
	if n, ok := c.s.securityLog.Allow(time.Now()); ok {
		c.s.log.Warn("possible cross-protocol attack: a client sent an HTTP request (POST, Host: or a request line) to the RESP port; connection closed",
			"remote", c.nc.RemoteAddr().String(), "line", string(clip(args[0], 32)), "not_logged_since", n)
	}
	return true
}
