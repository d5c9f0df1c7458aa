package client

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// proxy is a TCP proxy in front of a RESP server that records the name of
// every command clients send and can kill a connection instead of
// forwarding a command (the request is lost, as on a network failure).
type proxy struct {
	addr string
	kill func(cmd string) bool

	mu    sync.Mutex // guards cmds and conns
	cmds  []string
	conns []net.Conn
}

// startProxy starts a proxy to target, stopped when the test ends. kill may
// be nil.
func startProxy(t *testing.T, target string, kill func(cmd string) bool) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: l.Addr().String(), kill: kill}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			wg.Add(2)
			go func() {
				defer wg.Done()
				io.Copy(c, s)
				c.Close()
			}()
			go func() {
				defer wg.Done()
				p.pump(c, s)
				c.Close()
				s.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	return p
}

// pump forwards commands from c to s one at a time.
func (p *proxy) pump(c, s net.Conn) {
	rd := bufio.NewReader(c)
	for {
		raw, name, err := readCommand(rd)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.cmds = append(p.cmds, name)
		p.mu.Unlock()
		if p.kill != nil && p.kill(name) {
			return
		}
		if _, err := s.Write(raw); err != nil {
			return
		}
	}
}

// commands returns the names of the commands seen so far, lower case.
func (p *proxy) commands() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.cmds...)
}

// readCommand reads one RESP multibulk request and returns its bytes and
// its lower-cased command name.
func readCommand(rd *bufio.Reader) (raw []byte, name string, err error) {
	var buf bytes.Buffer
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, "", err
	}
	buf.WriteString(line)
	if !strings.HasPrefix(line, "*") {
		return nil, "", fmt.Errorf("proxy: not a multibulk request: %q", line)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil {
		return nil, "", err
	}
	for i := range n {
		hdr, err := rd.ReadString('\n')
		if err != nil {
			return nil, "", err
		}
		buf.WriteString(hdr)
		size, err := strconv.Atoi(strings.TrimSpace(hdr[1:]))
		if err != nil {
			return nil, "", err
		}
		arg := make([]byte, size+2)
		if _, err := io.ReadFull(rd, arg); err != nil {
			return nil, "", err
		}
		buf.Write(arg)
		if i == 0 {
			name = strings.ToLower(string(arg[:size]))
		}
	}
	return buf.Bytes(), name, nil
}
