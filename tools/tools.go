//go:build tools

package tools

import (
	_ "github.com/anishathalye/porcupine"
	_ "github.com/buraksezer/consistent"
	_ "github.com/cespare/xxhash/v2"
	_ "github.com/hashicorp/memberlist"
	_ "github.com/hashicorp/raft"
	_ "github.com/hashicorp/raft-boltdb/v2"
	_ "github.com/maypok86/otter/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/tidwall/redcon"
	_ "github.com/yuin/gopher-lua"
	_ "go.etcd.io/bbolt"
	_ "go.uber.org/goleak"
)
