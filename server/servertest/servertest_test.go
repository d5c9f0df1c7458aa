package servertest_test

import (
	"bufio"
	"net"
	"testing"

	"github.com/sessiongrid/sessiongrid/server/servertest"
)

// TestStartServes checks that the server answers on its address and that the
// store under it is the one the test sees.
func TestStartServes(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("*4\r\n$4\r\nHSET\r\n$2\r\nid\r\n$1\r\nk\r\n$1\r\nv\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != ":1\r\n" {
		t.Fatalf("HSET answered %q, %v; want :1", line, err)
	}
	if v, err := s.Store.Get(t.Context(), "id", "k"); err != nil || string(v) != "v" {
		t.Fatalf("store holds %q, %v; want v", v, err)
	}
}
