#!/usr/bin/python3
"""One worker of the bucketcache comparison harness, for python-diskcache.

The harness starts this script with Debian's python3 and speaks to it as it
speaks to its own Go workers: it writes one job as a line of JSON on standard
input; the worker sets up, prints {"ready": true}, waits for a line on
standard input (the start barrier), runs the timed part and prints its result
as one line of JSON. The workload (keys, values, order) mirrors the harness's
workload.go exactly.

`diskcache_worker.py --version` prints the Python and diskcache versions.
"""

import gc
import json
import math
import sys
import time

import diskcache

PERM_STEPS = (7919, 7907, 7901)


def key_of(i):
    return "k%09d" % i


def miss_key_of(i):
    return "m%09d" % i


def batch_key_of(i):
    return "b%09d" % i


def fill_byte(j):
    return (j * 31 + 7) & 0xFF


def filler(size):
    block = bytes(fill_byte(j) for j in range(256))
    return (block * (size // 256 + 1))[:size]


def stamp(i, size):
    return i.to_bytes(8, "little")[: min(8, size)]


def value_of(i, size, fill):
    s = stamp(i, size)
    return s + fill[len(s):]


def check(v, i, size):
    if v is None or len(v) != size:
        return False
    s = stamp(i, size)
    if v[: len(s)] != s:
        return False
    return size <= 8 or v[size - 1] == fill_byte(size - 1)


def perm_step(n):
    for s in PERM_STEPS:
        if math.gcd(s, n) == 1:
            return s
    return 1


def perm(j, n):
    return (j * perm_step(n) + 13) % n


def share(count, w, workers):
    return range(w, count, workers)


class Result:
    def __init__(self):
        self.msg = {}

    def fail(self, err):
        if not self.msg.get("errors"):
            self.msg["first_error"] = str(err)
        self.msg["errors"] = self.msg.get("errors", 0) + 1

    def check_get(self, key, v, want, i, size):
        found = v is not None
        if found != want:
            self.fail("get %s: found=%s, want %s" % (key, found, want))
        elif want and not check(v, i, size):
            self.fail("get %s: value read back differs from the value written" % key)


def open_cache(job):
    # The default size limit (1 GB) would evict entries of the larger rows;
    # the other stores under test never evict, so neither does this one.
    return diskcache.Cache(job["dir"], size_limit=2**62)


def status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no %s in /proc/self/status" % field)


def emit(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def barrier():
    emit({"ready": True})
    sys.stdin.readline()


def timed_loop(res, js, call):
    """Runs call(n, j) for each operation, timing each; returns latencies."""
    lat = []
    clock = time.perf_counter_ns
    for n, j in enumerate(js):
        lat.append(call(n, j, clock))
    res.msg["lat_ns"] = lat
    res.msg["items"] = len(js)


def run(job):
    res = Result()
    op, size, nkeys = job["op"], job["value_size"], job["keys"]
    fill = filler(size)
    if op == "rss":
        barrier()
        gc.collect()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        res.msg["rss_base"] = status_bytes("VmRSS:")
        res.msg["start_ns"] = time.time_ns()
        cache = open_cache(job)
        for j in share(job["count"], 0, 1):
            i = perm(j, nkeys)
            res.check_get(key_of(i), cache.get(key_of(i)), True, i, size)
        res.msg["items"] = job["count"]
        res.msg["end_ns"] = time.time_ns()
        res.msg["rss_peak"] = status_bytes("VmHWM:")
        cache.close()
        return res.msg

    cache = open_cache(job)
    js = list(share(job["count"], job["worker"], job["workers"]))
    if op == "miss":
        keys = [miss_key_of(j) for j in js]
    elif op == "fill":
        js = list(range(nkeys))
        keys = [key_of(i) for i in js]
    elif op == "batch":
        keys = [batch_key_of(i) for i in range(job["count"])]
    else:
        keys = [key_of(perm(j, nkeys)) for j in js]

    if op == "set":
        # Values are made before the timed call; below 256 MiB all at once.
        pre = len(js) * size <= 256 << 20
        vals = [value_of(perm(j, nkeys), size, fill) for j in js] if pre else None

        def call(n, j, clock):
            v = vals[n] if pre else value_of(perm(j, nkeys), size, fill)
            t = clock()
            try:
                cache.set(keys[n], v)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                res.fail(e)
            return clock() - t

    elif op in ("cold", "miss"):
        want = op == "cold"

        def call(n, j, clock):
            t = clock()
            v = cache.get(keys[n])
            d = clock() - t
            res.check_get(keys[n], v, want, perm(j, nkeys), size)
            return d

    elif op == "warm":

        def call(n, j, clock):
            i = perm(j, nkeys)
            res.check_get(keys[n], cache.get(keys[n]), True, i, size)
            t = clock()
            v = cache.get(keys[n])
            d = clock() - t
            res.check_get(keys[n], v, True, i, size)
            return d

    elif op == "memo":
        runs = [0]

        @cache.memoize(name="bench")
        def f(key):
            runs[0] += 1
            return value_of(int(key[1:]), size, fill)

        def call(n, j, clock):
            i = perm(j, nkeys)
            res.check_get(keys[n], f(keys[n]), True, i, size)
            t = clock()
            v = f(keys[n])
            d = clock() - t
            res.check_get(keys[n], v, True, i, size)
            return d

    elif op == "fill":
        barrier()
        res.msg["start_ns"] = time.time_ns()
        for lo in range(0, nkeys, 10000):
            with cache.transact():
                for i in range(lo, min(lo + 10000, nkeys)):
                    cache.set(keys[i], value_of(i, size, fill))
        res.msg["items"] = nkeys
        res.msg["end_ns"] = time.time_ns()
        cache.close()
        return res.msg

    elif op == "batch":
        barrier()
        res.msg["start_ns"] = time.time_ns()
        lat = []
        for r in range(job["reps"]):
            vals = [value_of(i + r, size, fill) for i in range(len(keys))]
            t = time.perf_counter_ns()
            with cache.transact():
                for k, v in zip(keys, vals):
                    cache.set(k, v)
            lat.append(time.perf_counter_ns() - t)
            res.msg["items"] = res.msg.get("items", 0) + len(keys)
        for i, k in enumerate(keys):
            res.check_get(k, cache.get(k), True, i + job["reps"] - 1, size)
        res.msg["lat_ns"] = lat
        res.msg["end_ns"] = time.time_ns()
        cache.close()
        return res.msg

    else:
        res.fail("unknown op %r" % op)
        return res.msg

    gc.collect()
    barrier()
    res.msg["start_ns"] = time.time_ns()
    timed_loop(res, js, call)
    res.msg["end_ns"] = time.time_ns()
    if op == "memo" and runs[0] != len(js):
        res.fail("memoized function ran %d times for %d keys" % (runs[0], len(js)))
    cache.close()
    return res.msg


def main():
    if sys.argv[1:] == ["--version"]:
        v = sys.version_info
        print("Python %d.%d.%d, diskcache %s" % (v.major, v.minor, v.micro, diskcache.__version__))
        return
    job = json.loads(sys.stdin.readline())
    try:
        msg = run(job)
    except Exception as e:  # noqa: BLE001 - reported to the harness
        msg = {"errors": 1, "first_error": "%s: %s" % (type(e).__name__, e)}
    emit(msg)


if __name__ == "__main__":
    main()
