package redis

import goredis "github.com/redis/go-redis/v9"

// ClientOf exposes the store's client to the tests, which count the round
// trips of each call with a hook.
func ClientOf(s *Store) *goredis.Client { return s.client }
