// Package adapters holds sessiongrid's drop-in session managers for the WCE
// chatbot engines, in their own languages:
//
//   - pywce/: GridSessionManager, pywce's ISessionManager over redis-py
//     (Python 3, redis-py only), with its unittest suite.
//   - jawce/: GridSessionManager, jawce's ISessionManager over a small RESP
//     client (Java 17, JDK only), with a plain-Java test runner.
//
// The Go package itself is empty: its tests start a real gridnode (the
// server package over the in-memory store) and run the Python and Java
// suites against it, so that `go test ./...` checks both adapters and the
// data they exchange with Go. They need /usr/bin/python3 with redis-py
// (Debian's python3-redis) and a JDK (javac, java); a missing tool fails the
// tests unless SESSIONGRID_ALLOW_MISSING_TOOLS=1.
package adapters
