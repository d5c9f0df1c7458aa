package server

import (
	"context"
	"io"
	"testing"
)

// HTTP requests sent to the RESP port (a browser made to POST to it) are
// closed at their first line: nothing runs, nothing is answered.
func TestHTTPRequestsClosed(t *testing.T) {
	n := startNode(t, Config{})
	cases := map[string]string{
		"POST with a command body": "POST / HTTP/1.1\r\nHost: 127.0.0.1:6379\r\nContent-Length: 9\r\n\r\nSET k v\r\n",
		"GET request line":         "GET /?SET%20k%20v HTTP/1.1\r\nHost: x\r\n\r\nSET k v\r\n",
		"Host header first":        "Host: 127.0.0.1\r\nSET k v\r\n",
		"PUT request line":         "PUT /x HTTP/1.0\r\nSET k v\r\n",
		"multibulk POST":           "*1\r\n$4\r\npost\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			c := n.dial(t)
			if _, err := c.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("connection not closed: %v", err)
			}
			if len(got) != 0 {
				t.Fatalf("the server answered %q", got)
			}
			if v, err := n.client(t, 2).Exists(context.Background(), "k").Result(); err != nil || v != 0 {
				t.Fatalf("EXISTS k = %d, %v: a command of the request ran", v, err)
			}
		})
	}
	// Commands that merely look alike still get their usual replies.
	c := n.client(t, 2)
	if err := c.Do(context.Background(), "GET", "/a", "b").Err(); err == nil || err.Error() != "ERR wrong number of arguments for 'get' command" {
		t.Fatalf("GET /a b: %v", err)
	}
	if err := c.Do(context.Background(), "posts").Err(); err == nil || err.Error()[:19] != "ERR unknown command" {
		t.Fatalf("posts: %v", err)
	}
}
