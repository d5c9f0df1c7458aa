package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
)

// NewMemberTLS returns the TLS configuration of a member for its member
// ports (internal transport and Raft): it presents cert both as a server
// and as a client, and requires the peer's certificate to chain to ca, in
// both directions (mutual TLS with a cluster CA). Host names are not
// checked — members dial addresses that certificates rarely name — so the
// CA must issue certificates to members only. To replace the certificate
// or the CA while running, use MemberCredentials.
func NewMemberTLS(cert tls.Certificate, ca *x509.CertPool) *tls.Config {
	return NewMemberCredentials(cert, ca).Config()
}

// MemberCredentials are a member's certificate and cluster CA, replaceable
// while the member runs (gridnode reloads them on SIGHUP): every TLS
// handshake — as listener and as dialer — reads the current ones, and
// connections already established are not touched. Safe for concurrent
// use.
type MemberCredentials struct {
	cur atomic.Pointer[memberCreds]
}

type memberCreds struct {
	cert *tls.Certificate
	ca   *x509.CertPool
}

// NewMemberCredentials returns credentials holding cert and ca.
func NewMemberCredentials(cert tls.Certificate, ca *x509.CertPool) *MemberCredentials {
	c := &MemberCredentials{}
	c.Set(cert, ca)
	return c
}

// Set replaces the certificate and the CA for the handshakes that start
// from now on.
func (c *MemberCredentials) Set(cert tls.Certificate, ca *x509.CertPool) {
	c.cur.Store(&memberCreds{cert: &cert, ca: ca})
}

// Config returns the TLS configuration of the member ports (see
// NewMemberTLS), reading the current credentials at each handshake.
func (c *MemberCredentials) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Any certificate is asked for; the chain is verified below with
		// the current CA, without a host name, in both directions.
		ClientAuth:         tls.RequireAnyClientCert,
		InsecureSkipVerify: true,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load().cert, nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return c.cur.Load().cert, nil
		},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyMember(raw, c.cur.Load().ca)
		},
	}
}

// verifyMember checks that the peer's chain leads to ca.
func verifyMember(raw [][]byte, ca *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("transport: the peer presented no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, b := range raw {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return fmt.Errorf("transport: the peer's certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: ca, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("%w: the peer's certificate is not from the cluster CA: %v", ErrAuth, err)
	}
	return nil
}
