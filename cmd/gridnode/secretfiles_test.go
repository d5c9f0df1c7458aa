package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	pw, sec := filepath.Join(dir, "pw"), filepath.Join(dir, "sec")
	if err := os.WriteFile(pw, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sec, []byte("cluster-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parseOptions([]string{"--password-file", pw}, env(map[string]string{"GRIDNODE_SECRET_FILE": sec}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.password != "from-file" || o.cluster.secret != "cluster-secret" {
		t.Fatalf("password %q, secret %q", o.password, o.cluster.secret)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for name, args := range map[string][]string{
		"both":    {"--password", "x", "--password-file", pw},
		"missing": {"--secret-file", filepath.Join(dir, "none")},
		"empty":   {"--password-file", empty},
	} {
		if _, err := parseOptions(args, env(nil), io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
