package client

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
)

// dialer opens connections to a list of gridnodes, spreading them
// round-robin and skipping a node that cannot be reached.
type dialer struct {
	addrs []string
	tls   *tls.Config
	next  atomic.Uint64 // index of the node the next dial starts at
}

// dial implements redis.Options.Dialer; it ignores the address go-redis
// passes (our first address) and walks the list instead. ctx carries the
// dial timeout.
func (d *dialer) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	start := d.next.Add(1) - 1
	var errs []error
	for i := range d.addrs {
		addr := d.addrs[(start+uint64(i))%uint64(len(d.addrs))]
		var nd net.Dialer
		var conn net.Conn
		var err error
		if d.tls != nil {
			td := tls.Dialer{NetDialer: &nd, Config: d.tls}
			conn, err = td.DialContext(ctx, network, addr)
		} else {
			conn, err = nd.DialContext(ctx, network, addr)
		}
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}
