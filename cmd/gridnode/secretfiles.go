package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// Secrets from files (the Docker and Kubernetes secrets convention):
// --password-file and --secret-file, or GRIDNODE_PASSWORD_FILE and
// GRIDNODE_SECRET_FILE, name a file whose content (without its trailing
// line break) is the password or the cluster secret. They keep secrets off
// the command line and out of the environment of the process.
type secretFiles struct {
	password string
	secret   string
}

func addSecretFileFlags(fs *flag.FlagSet, o *secretFiles) {
	fs.StringVar(&o.password, "password-file", "", "file holding the password (instead of --password; the Docker/Kubernetes secrets convention)")
	fs.StringVar(&o.secret, "secret-file", "", "cluster mode: file holding the cluster secret (instead of --secret)")
}

// readSecretFiles sets o's password and secret from their files.
func (o *options) readSecretFiles() error {
	read := func(flagName, file string, dst *string, direct string) error {
		if file == "" {
			return nil
		}
		if direct != "" {
			return fmt.Errorf("--%s and --%s are both set: give one", strings.TrimSuffix(flagName, "-file"), flagName)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--%s: %w", flagName, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return fmt.Errorf("--%s: %s is empty", flagName, file)
		}
		*dst = v
		return nil
	}
	return errors.Join(
		read("password-file", o.files.password, &o.password, o.password),
		read("secret-file", o.files.secret, &o.cluster.secret, o.cluster.secret),
	)
}
