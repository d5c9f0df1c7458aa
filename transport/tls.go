package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// NewMemberTLS returns the TLS configuration of a member for its member
// ports (internal transport and Raft): it presents cert both as a server
// and as a client, and requires the peer's certificate to chain to ca, in
// both directions (mutual TLS with a cluster CA). Host names are not
// checked — members dial addresses that certificates rarely name — so the
// CA must issue certificates to members only.
func NewMemberTLS(cert tls.Certificate, ca *x509.CertPool) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    ca,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
		// The chain is verified below, without a host name.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
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
		},
	}
}
