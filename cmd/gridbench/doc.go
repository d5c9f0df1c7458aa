// Command gridbench runs the chatbot workload of sessiongrid (WORKLOAD.md:
// what the pywce and jawce engines do to their session store for every
// WhatsApp message) with N concurrent simulated bot workers, against one
// or more stores in one invocation, and compares them. Targets are given
// as KIND[+OPTION...][=ARG]:
//
//   - memory: the in-process memory backend (session/memory);
//   - file[+nosync][=DIR]: one file per session (session/file), fsync on
//     unless +nosync, in DIR or a temporary directory;
//   - bolt[+nosync][+batch][=PATH]: the bbolt B+tree (session/bolt),
//     fsync per commit unless +nosync, bbolt batching with +batch;
//   - cache: the bounded otter cache (session/cache), sized to hold the
//     whole population, so that it measures speed, not eviction;
//   - redisstore[+gridnode]=ADDR: the Redis backend (session/redis) in its
//     script mode against a redis-server, or in gridnode mode;
//   - remote=ADDR: a gridnode through the remote client (client.Remote,
//     gridnode's session commands);
//   - redis=ADDR: any RESP server (redis-server, or gridnode itself)
//     through plain Redis hash commands with go-redis.
//
// ADDR is host:port, or for redis and redisstore a unix socket path. Every
// target but redis is driven through its session.Store by the same
// workload code; each starts from its package's DefaultConfig, and the
// output lists the settings each target used. Temporary directories are
// removed afterwards; with -cleanup the benchmark's sessions are deleted
// from servers and from a DIR or PATH given.
//
// Example, every backend on a redis-server at 6395 and a gridnode at 6396,
// 8 workers, 8 s each in 2 interleaved rounds, 10,000 sessions:
//
//	gridbench -clients 8 -duration 8s -rounds 2 -sessions 10000 \
//	    -targets memory,file,file+nosync,bolt,bolt+nosync,cache,redisstore=127.0.0.1:6395,redis=127.0.0.1:6395,remote=127.0.0.1:6396
//
// -population NAME=N gives slow targets a smaller population (NAME is a
// target's kind, or its kind with options: -population file=2000). The
// preload of a target that fsyncs runs with its fsyncs off and the store is
// reopened as configured before the measurement, since the preload is not
// measured.
//
// Each message is about 14 reads and 7 writes on one user's session (see
// workload.go for each step and the engine code it models), users are drawn
// from a Zipf distribution over the target's population (preloaded with 1-8
// KB each), and the messages of one user never run concurrently. gridbench
// prints messages/s, ops/s and p50/p99/p99.9 latency per operation, one
// progress line a second on stderr, the server's CPU time per message when
// the server runs on this machine (process_id from INFO, /proc/PID/stat),
// what each local store reports after the run (evictions, bytes on disk),
// and a comparison table; -json writes everything as JSON. With -rounds N
// the targets take turns N times, so that a drift in the machine's load
// weighs on all of them alike.
package main
