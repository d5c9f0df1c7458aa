// Command gridbench runs the chatbot workload of sessiongrid (WORKLOAD.md:
// what the pywce and jawce engines do to their session store for every
// WhatsApp message) with N concurrent simulated bot workers, against one
// or more stores in one invocation, and compares them:
//
//   - memory: the in-process memory backend (session/memory);
//   - remote=host:port: a gridnode through the remote client (client.Remote,
//     gridnode's session commands);
//   - redis=host:port: any RESP server (redis-server, or gridnode itself)
//     through plain Redis hash commands with go-redis.
//
// Example, gridnode on 6380 and redis-server on 6379, 20 workers, 10 s each:
//
//	gridbench -clients 20 -duration 10s \
//	    -targets memory,remote=127.0.0.1:6380,redis=127.0.0.1:6380,redis=127.0.0.1:6379 \
//	    -json results.json
//
// Each message is about 14 reads and 7 writes on one user's session (see
// workload.go for each step and the engine code it models), users are drawn
// from a Zipf distribution over -sessions users (preloaded with 1-8 KB
// each), and the messages of one user never run concurrently. gridbench
// prints messages/s, ops/s and p50/p99/p99.9 latency per operation, one
// progress line a second on stderr, the server's CPU time per message when
// the server runs on this machine (process_id from INFO, /proc/PID/stat),
// and a comparison table; -json writes everything as JSON. With -rounds N
// the targets take turns N times, so that a drift in the machine's load
// weighs on all of them alike.
package main
