package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// The Lua scripts of ModeScript. Each runs atomically on the server. KEYS[1]
// is the session's hash; ARGV[1] is the store's default idle timeout in ms
// (<= 0: never idles out). Field names arrive already tagged ("d:", "p:").

// luaLib is prepended to every script.
const luaLib = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- slide restarts the idle clock of session k: it expires at the earlier of
-- now + idle (its own override m:i, else the default) and its deadline m:d,
-- or never.
local function slide(k, defidle)
  local m = redis.call('HMGET', k, 'm:i', 'm:d')
  local idle = tonumber(m[1]) or defidle
  local dl = tonumber(m[2])
  local at = false
  if idle > 0 then at = now_ms() + idle end
  if dl and (not at or dl < at) then at = dl end
  if at then
    redis.call('PEXPIREAT', k, string.format('%d', at))
  else
    redis.call('PERSIST', k)
  end
end

-- drop_if_empty deletes session k when it holds no data and no props any
-- more (only metadata) and reports whether k is gone.
local function drop_if_empty(k)
  local n = redis.call('HLEN', k)
  if n == 0 then return true end
  local m = redis.call('HMGET', k, 'm:i', 'm:d')
  if m[1] then n = n - 1 end
  if m[2] then n = n - 1 end
  if n == 0 then
    redis.call('DEL', k)
    return true
  end
  return false
end

-- chunked calls cmd on k with args[from..#args] in chunks, staying under
-- Lua's limit on unpacked arguments, and returns the sum of the replies.
local function chunked(cmd, k, args, from, step)
  local sum = 0
  local i = from
  while i <= #args do
    local j = math.min(i + step - 1, #args)
    sum = sum + redis.call(cmd, k, unpack(args, i, j))
    i = j + 1
  end
  return sum
end
`

// scriptSave writes the field/value pairs ARGV[2..] (data or props) and
// slides the expiry. It returns how many fields were new.
var scriptSave = newScript(`
local k = KEYS[1]
local added = chunked('HSET', k, ARGV, 2, 1000)
slide(k, tonumber(ARGV[1]))
return added
`)

// scriptEvict removes the fields ARGV[2..], drops the session if nothing is
// left and otherwise slides its expiry when something was removed. It
// returns how many fields existed.
var scriptEvict = newScript(`
local k = KEYS[1]
local removed = chunked('HDEL', k, ARGV, 2, 1000)
if removed > 0 and not drop_if_empty(k) then
  slide(k, tonumber(ARGV[1]))
end
return removed
`)

// scriptClearRetain removes every data field not named in ARGV[2..] (props
// kept), drops the session if nothing is left, else slides it. It returns
// 1 if the session existed.
var scriptClearRetain = newScript(`
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return 0 end
local keep = {}
for i = 2, #ARGV do keep[ARGV[i]] = true end
local del = {}
for _, f in ipairs(redis.call('HKEYS', k)) do
  if string.sub(f, 1, 2) == 'd:' and not keep[f] then del[#del + 1] = f end
end
chunked('HDEL', k, del, 1, 1000)
if not drop_if_empty(k) then slide(k, tonumber(ARGV[1])) end
return 1
`)

// scriptSetExpiry sets the override: ARGV[2] idle ms (0 keep, -1 never,
// > 0 set), ARGV[3] TTL ms (> 0 deadline now+TTL, else none), then restarts
// the idle clock. It returns 0 if the session does not exist.
var scriptSetExpiry = newScript(`
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return 0 end
local idle = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
if idle ~= 0 then redis.call('HSET', k, 'm:i', string.format('%d', idle)) end
if ttl > 0 then
  redis.call('HSET', k, 'm:d', string.format('%d', now_ms() + ttl))
else
  redis.call('HDEL', k, 'm:d')
end
slide(k, tonumber(ARGV[1]))
return 1
`)

// The reads of TouchOnRead: the plain read, then a slide if the session
// exists.

// scriptTouchGet returns field ARGV[2] (nil if missing).
var scriptTouchGet = newScript(`
local k = KEYS[1]
local v = redis.call('HGET', k, ARGV[2])
if redis.call('EXISTS', k) == 1 then slide(k, tonumber(ARGV[1])) end
return v
`)

// scriptTouchGetAll returns every field and value, flat.
var scriptTouchGetAll = newScript(`
local k = KEYS[1]
local all = redis.call('HGETALL', k)
if #all > 0 then slide(k, tonumber(ARGV[1])) end
return all
`)

// scriptTouchExists returns 1 if field ARGV[2] exists.
var scriptTouchExists = newScript(`
local k = KEYS[1]
local e = redis.call('HEXISTS', k, ARGV[2])
if redis.call('EXISTS', k) == 1 then slide(k, tonumber(ARGV[1])) end
return e
`)

// script is a Lua script with its source, so that loadScripts can load it
// without touching the goredis.Script shared by every Store.
type script struct {
	*goredis.Script
	src string
}

// scripts lists every script, for loadScripts.
var scripts []script

// newScript returns a script of body after luaLib and registers it.
func newScript(body string) *goredis.Script {
	sc := script{Script: goredis.NewScript(luaLib + body), src: luaLib + body}
	scripts = append(scripts, sc)
	return sc.Script
}

// loadScripts loads every script into the server's cache in one round trip,
// so that no call pays for a missed EVALSHA, and so that a server without
// Lua (gridnode) is refused by New with a clear error rather than by the
// first write.
func loadScripts(ctx context.Context, c *goredis.Client) error {
	pipe := c.Pipeline()
	cmds := make([]*goredis.StringCmd, len(scripts))
	for i, sc := range scripts {
		cmds[i] = pipe.ScriptLoad(ctx, sc.src)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		var rerr goredis.Error
		if errors.As(err, &rerr) {
			return fmt.Errorf("the server does not run Lua scripts (SCRIPT LOAD: %w); "+
				"ModeScript needs redis-server 7 or later, use ModeGridnode for gridnode", err)
		}
		return mapErr("SCRIPT LOAD", err)
	}
	for i, sc := range scripts {
		if got := cmds[i].Val(); got != sc.Hash() {
			return fmt.Errorf("SCRIPT LOAD returned digest %q, want %q", got, sc.Hash())
		}
	}
	return nil
}
