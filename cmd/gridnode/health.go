package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// health is `gridnode health`: it asks a running node's /readyz and exits 0
// when the node is ready, 1 when it is not (or does not answer). A FROM
// scratch image has no shell and no curl, so this is what a container's
// health check runs. The address is --http-addr, else GRIDNODE_HTTP_ADDR,
// else gridnode's default; an unspecified host (0.0.0.0, ::) means this
// machine's loopback.
func health(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gridnode health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("http-addr", "", "HTTP address of the node to check (default: $"+envName("http-addr")+", else "+defaultHTTPAddr+")")
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this long")
	httpTLS := fs.String("http-tls", "", "yes: the node serves HTTPS (gridnode --http-tls yes; default: $"+envName("http-tls")+"); its certificate is not verified, as this only reads the local node's readiness and sends nothing")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitConfig
	}
	if *addr == "" {
		*addr = getenv(envName("http-addr"))
	}
	if *addr == "" {
		*addr = defaultHTTPAddr
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "gridnode health: --http-addr %q: %v\n", *addr, err)
		return exitConfig
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if *httpTLS == "" {
		*httpTLS = getenv(envName("http-tls"))
	}
	scheme, client := "http", http.DefaultClient
	switch *httpTLS {
	case "", "no":
	case "yes":
		scheme = "https"
		client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	default:
		fmt.Fprintf(stderr, "gridnode health: --http-tls must be yes or no, got %q\n", *httpTLS)
		return exitConfig
	}
	url := scheme + "://" + net.JoinHostPort(host, port) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "gridnode health: %v\n", err)
		return exitConfig
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "gridnode health: %v\n", err)
		return exitFailed
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	msg := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "gridnode health: %s: %s %s\n", url, resp.Status, msg)
		return exitFailed
	}
	fmt.Fprintf(stdout, "%s\n", msg)
	return exitOK
}
