"""Python's pty module as a benchmark peer: one scenario in this process, one JSON line out.

usage: python3 python_pty.py '{"peer": "python-fork" | "python-spawn", "scenario": ..., "params": {...}}'

python-fork: pty.fork() + execvp in the child, os.read(master, 65536) until EIO, os.waitpid.
python-spawn: pty.spawn(argv, master_read) as documented, its output going to a file
(or /dev/null); stdin is whatever the harness gave (/dev/null).
"""

import json
import os
import pty
import resource
import select
import sys
import time

JOB = json.loads(sys.argv[1])
PEER = JOB["peer"]
PARAMS = JOB["params"]
# fd 1 becomes the sink of pty.spawn; the result line goes to a copy of the original stdout.
RESULT_FD = os.dup(1)


def now_ms():
    return time.perf_counter() * 1e3


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1e3


def max_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def status_of(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def fd_count():
    return len(os.listdir("/proc/self/fd")) - 1


def start(argv):
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    return pid, fd


def run_fork(argv):
    """One child through pty.fork: times of first byte and exit (ms from the start), bytes."""
    t0 = now_ms()
    pid, fd = start(argv)
    first = None
    last = None
    got = 0
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: every slave fd is closed
            break
        if not data:
            break
        if first is None:
            first = now_ms()
        got += len(data)
        last = now_ms()
    os.close(fd)
    os.waitpid(pid, 0)
    t_exit = now_ms()
    return {"first": (first or t_exit) - t0, "last": (last or t_exit) - t0, "exit": t_exit - t0, "bytes": got}


def run_spawn(argv, sink_path="/dev/null"):
    """One child through pty.spawn with its output going to sink_path (fd 1)."""
    sink = os.open(sink_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(sink, 1)
    os.close(sink)
    first = None
    got = 0

    def master_read(fd):
        nonlocal first, got
        data = os.read(fd, 1024)  # what pty._read does
        if data and first is None:
            first = now_ms()
        got += len(data)
        return data

    t0 = now_ms()
    pty.spawn(argv, master_read)
    t_exit = now_ms()
    size = os.fstat(1).st_size if sink_path != "/dev/null" else got
    os.dup2(RESULT_FD, 1)
    return {"first": (first or t_exit) - t0, "last": t_exit - t0, "exit": t_exit - t0, "bytes": size}


def run_one(argv, sink_path=None):
    if PEER == "python-fork":
        return run_fork(argv)
    return run_spawn(argv, sink_path or "/dev/null")


def touch_memory(gib):
    if not gib:
        return None
    chunk = 64 << 20
    filler = b"\x01" * chunk
    buf = bytearray(int(gib * (1 << 30)))
    for off in range(0, len(buf), chunk):
        buf[off:off + chunk] = filler[: len(buf) - off]
    return buf


def throughput():
    n = PARAMS["bytes"]
    sink = None
    if PEER == "python-spawn":
        sink = os.path.join(PARAMS["tmpdir"], "python-spawn.out")
    c0 = cpu_ms()
    r = run_one(["head", "-c", str(n), "/dev/zero"], sink)
    cpu = cpu_ms() - c0
    if sink:
        os.unlink(sink)
    return {"bytes": r["bytes"], "expectedBytes": n, "ms": r["last"], "exitMs": r["exit"], "cpuMs": cpu}


def latency(argv, key, count):
    samples = []
    byte_counts = []
    run_one(argv)  # one untimed run first, as every peer does
    for _ in range(count):
        r = run_one(argv)
        samples.append(r[key])
        byte_counts.append(r["bytes"])
    return samples, byte_counts


def spawn_latency():
    keep = touch_memory(PARAMS.get("gib", 0))
    samples, _ = latency(["true"], "exit", PARAMS["spawns"])
    del keep
    return {"samples": samples}


def first_byte():
    samples, counts = latency(["echo", "hi"], "first", PARAMS["spawns"])
    return {"samples": samples, "bytes": counts, "expectedBytes": 4}


def lost_at_exit():
    n = PARAMS["bytes"]
    lost = 0
    lost_bytes = 0
    for _ in range(PARAMS["trials"]):
        r = run_one(["head", "-c", str(n), "/dev/zero"])
        if r["bytes"] != n:
            lost += 1
            lost_bytes += n - r["bytes"]
    return {"trials": PARAMS["trials"], "lost": lost, "lostBytes": lost_bytes}


def many(argv):
    """Starts PARAMS['children'] children at once and reads them all with poll until EIO.
    Threads, fds and RSS are looked at before the first child and once all have started;
    run.js also samples them from outside every 20 ms."""
    n = PARAMS["children"]
    base = {"threads": status_of("Threads"), "fds": fd_count(), "rssKiB": status_of("VmRSS")}
    peak = dict(base)

    def look():
        peak["threads"] = max(peak["threads"], status_of("Threads"))
        peak["fds"] = max(peak["fds"], fd_count())
        peak["rssKiB"] = max(peak["rssKiB"], status_of("VmRSS"))

    t0 = now_ms()
    c0 = cpu_ms()
    children = {}
    for _ in range(n):
        pid, fd = start(argv)
        children[fd] = [pid, b""]
    t_spawned = now_ms()
    look()  # before the CPU window of the idle scenario opens
    c_spawned = cpu_ms()
    poller = select.poll()
    for fd in children:
        poller.register(fd, select.POLLIN)
    ready = 0
    exits = 0
    while children:
        for fd, _ev in poller.poll():
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if data:
                children[fd][1] += data
                continue
            pid, out = children.pop(fd)
            poller.unregister(fd)
            os.close(fd)
            os.waitpid(pid, 0)
            exits += 1
            if b"ready" in out:
                ready += 1
    t_end = now_ms()
    c_end = cpu_ms()
    return {
        "children": n, "ready": ready, "exits": exits, "wallMs": t_end - t0, "spawnMs": t_spawned - t0,
        "cpuSpawnMs": c_spawned - c0, "cpuWindowMs": c_end - c_spawned, "base": base, "peak": peak,
        "maxRssKiB": max_rss_kib(),
    }


def concurrency():
    return many(["sh", "-c", "echo ready; sleep %s" % PARAMS["sleep"]])


def idle():
    r = many(["sleep", str(PARAMS["sleep"])])
    r["ready"] = r["exits"]
    return r


SCENARIOS = {
    "throughput": throughput,
    "spawn": spawn_latency,
    "bigparent": spawn_latency,
    "firstbyte": first_byte,
    "lost": lost_at_exit,
    "concurrency": concurrency,
    "idle": idle,
}

result = SCENARIOS[JOB["scenario"]]()
result["maxRssKiB"] = result.get("maxRssKiB", max_rss_kib())
os.write(RESULT_FD, (json.dumps(result) + "\n").encode())
