#!/usr/bin/env python3
"""The chaos workload in Python (redis-py, the pywce adapter's calls).

Run by test/e2e (chaos_python_test.go), not by hand:

    workload.py PREFIX SESSIONS GLOBALS WORKERS_PER_MEMBER PACE_MS NAME=HOST:PORT [NAME=HOST:PORT ...]

Each worker thread is one bot instance bound to one member and calls it as
adapters/pywce/gridnode_session.py does (``execute_command("HSET", ...)``,
``GLOBAL.SET``/``GLOBAL.GET``), with values JSON-encoded. The workers run
until stdin closes; then every operation is printed to stdout as one JSON
line, in the Go harness's history format (times in ns of the wall clock).
The members' password, if any, comes from the environment (SGE2E_PASSWORD).
"""

import json
import os
import random
import sys
import threading
import time

import redis

FIELDS = ["stage", "lang", "cart"]
GLOBAL_SHARE, NEW_SHARE, DEL_SHARE = 0.10, 0.10, 0.03

OK, FAILED, UNKNOWN = 0, 1, 2


def classify(err):
    """A connection that was never made applied nothing; anything else
    (timeout, reset, error reply) may or may not have applied the command."""
    if err is None:
        return OK
    if isinstance(err, redis.exceptions.ConnectionError) and not isinstance(err, redis.exceptions.TimeoutError) \
            and "connecting to" in str(err):
        return FAILED
    return UNKNOWN


class Worker(threading.Thread):
    def __init__(self, n, member, addr, args, stop, ids, out):
        super().__init__(daemon=True)
        host, port = addr.rsplit(":", 1)
        # As GridSessionManager builds it; no retries: a retried write would
        # hide an indeterminate outcome.
        self.r = redis.Redis(host=host, port=int(port), socket_timeout=1.0, socket_connect_timeout=0.5,
                             retry_on_timeout=False, single_connection_client=True,
                             password=os.environ.get("SGE2E_PASSWORD") or None)
        self.n, self.member, self.args, self.stop, self.ids, self.out = n, member, args, stop, ids, out
        self.rng = random.Random(n * 7919 + time.time_ns())

    def run(self):
        prefix, sessions, globals_, pace = self.args
        client = next(self.ids)
        seq = 0
        while not self.stop.wait(pace):
            seq += 1
            value = json.dumps("p%d-%d" % (self.n, seq))
            x = self.rng.random()
            o = {"Client": client, "Member": self.member, "Field": 0, "Value": "", "Read": "", "N": 0, "Err": ""}
            if x < GLOBAL_SHARE:
                o["Key"] = "%s:g%d" % (prefix, self.rng.randrange(globals_))
                if self.rng.randrange(2) == 0:
                    o["Kind"], o["Value"] = "gset", value
                    cmd = ("GLOBAL.SET", o["Key"], value)
                else:
                    o["Kind"] = "gget"
                    cmd = ("GLOBAL.GET", o["Key"])
            elif x < GLOBAL_SHARE + NEW_SHARE:
                o["Kind"], o["Key"], o["Value"] = "new", "%s:new:%d:%d" % (prefix, self.n, seq), value
                cmd = ("HSET", o["Key"], "v", value)
            elif x < GLOBAL_SHARE + NEW_SHARE + DEL_SHARE:
                o["Kind"], o["Key"] = "del", "%s:s%d" % (prefix, self.rng.randrange(sessions))
                cmd = ("DEL", o["Key"])
            else:
                o["Key"], o["Field"] = "%s:s%d" % (prefix, self.rng.randrange(sessions)), self.rng.randrange(len(FIELDS))
                if self.rng.randrange(5) < 2:
                    o["Kind"], o["Value"] = "hset", value
                    cmd = ("HSET", o["Key"], FIELDS[o["Field"]], value)
                else:
                    o["Kind"] = "hget"
                    cmd = ("HGET", o["Key"], FIELDS[o["Field"]])
            err = None
            o["Call"] = time.time_ns()
            try:
                reply = self.r.execute_command(*cmd)
            except redis.exceptions.RedisError as e:
                err, reply = e, None
            o["Return"] = time.time_ns()
            o["Outcome"] = classify(err)
            if err is not None:
                o["Err"] = "%s: %s" % (type(err).__name__, err)
                try:  # a broken connection is not reused
                    self.r.connection_pool.disconnect()
                except Exception:
                    pass
            elif isinstance(reply, int):
                o["N"] = reply
            elif reply is not None:
                o["Read"] = reply.decode() if isinstance(reply, bytes) else str(reply)
            self.out.append(o)
            if o["Outcome"] == UNKNOWN:
                client = next(self.ids)


def main():
    prefix, sessions, globals_, per_member, pace_ms = sys.argv[1:6]
    members = sys.argv[6:]
    args = (prefix, int(sessions), int(globals_), int(pace_ms) / 1000.0)
    stop = threading.Event()
    lock = threading.Lock()
    counter = iter(range(1 << 30))

    class Ids:
        def __iter__(self):
            return self

        def __next__(self):
            with lock:
                return next(counter)

    ids = Ids()
    outs, workers = [], []
    n = 0
    for spec in members:
        name, addr = spec.split("=", 1)
        for _ in range(int(per_member)):
            out = []
            outs.append(out)
            workers.append(Worker(n, name, addr, args, stop, ids, out))
            n += 1
    for w in workers:
        w.start()
    sys.stdin.read()  # until the harness closes stdin
    stop.set()
    for w in workers:
        w.join()
    for out in outs:
        for o in out:
            sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
