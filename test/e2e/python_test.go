package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// pythonWorkload runs workload.py (redis-py, the pywce adapter's calls)
// against every member and turns its output into the same history the Go
// workload records. The final reads are the Go workload's.
type pythonWorkload struct {
	*workload // no workers of its own: the clock, client ids and final reads
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	stdout    bytes.Buffer
	stderr    bytes.Buffer
}

// python is the interpreter with Debian's python3-redis (scripts/test.sh
// installs it).
const python = "/usr/bin/python3"

func startPythonWorkload(c *cluster, cfg workloadConfig) (*pythonWorkload, error) {
	if out, err := exec.Command(python, "-c", "import redis").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s cannot import redis (apt-get install python3-redis): %v\n%s", python, err, out)
	}
	w := &workload{cfg: cfg, c: c, start: time.Now(), stop: make(chan struct{}),
		prefix: fmt.Sprintf("py%d", time.Now().UnixNano()%1e6)}
	args := []string{filepath.Join(repoRoot(c.t), "test", "e2e", "workload.py"), w.prefix,
		strconv.Itoa(cfg.Sessions), strconv.Itoa(cfg.Globals), strconv.Itoa(cfg.WorkersPerMember),
		strconv.Itoa(int(cfg.Pace / time.Millisecond))}
	for _, m := range c.services {
		args = append(args, m+"="+net.JoinHostPort(c.ip(m), respPort))
	}
	p := &pythonWorkload{workload: w, cmd: exec.Command(python, args...)}
	p.cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "SGE2E_PASSWORD="+c.password)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	p.stdin = stdin
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	c.t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p, nil
}

// pyOp is one line of workload.py's output.
type pyOp struct {
	Client            int
	Member, Kind, Key string
	Field             int
	Value, Read, Err  string
	Call, Return      int64 // ns of the wall clock
	Outcome           int
	N                 int64
}

// Stop closes the script's stdin (its signal to stop), waits for it and
// parses the history it prints.
func (p *pythonWorkload) Stop() ([]op, error) {
	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return nil, fmt.Errorf("workload.py: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
		return nil, fmt.Errorf("workload.py did not stop within 30 s\n%s", p.stderr.String())
	}
	base := p.start.UnixNano()
	var history []op
	sc := bufio.NewScanner(&p.stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var o pyOp
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			return nil, fmt.Errorf("workload.py output %q: %v", sc.Text(), err)
		}
		history = append(history, op{Client: 1<<20 + o.Client, Member: o.Member, Kind: o.Kind, Key: o.Key,
			Field: o.Field, Value: o.Value, Read: o.Read, Err: o.Err, N: o.N, Outcome: outcome(o.Outcome),
			Call: o.Call - base, Return: o.Return - base})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(history) == 0 {
		return nil, fmt.Errorf("workload.py recorded nothing\n%s", p.stderr.String())
	}
	return history, nil
}
