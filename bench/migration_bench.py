#!/usr/bin/env python3
"""The move of a live cluster, timed side by side on identical clusters in one run.

Each cluster: 3 masters + 3 replicas + 1 empty master (7 nodes), BENCH_KEYS keys (default 1 000 000) of 100-byte
values spread over all slots, loaded with `redis-cli --pipe` straight to each key's master (CRC16 computed here),
replicas caught up before anything is timed. Then 4096 slots move from all masters to the empty one:

  redis-cli            redis-cli --cluster reshard ... --cluster-from all --cluster-slots 4096 (defaults)
  redis-cli pipe 1000  the same with --cluster-pipeline 1000
  service              POST /clusters/{id}/reshard {"to", "slots": 4096}, from the POST to the job's end
  MIGRATESLOTS         (Valkey only) CLUSTER MIGRATESLOTS to each source master at once, the slots redis-cli would
                       take from it, until CLUSTER GETSLOTMIGRATIONS on the target says success for every job

and back again (the drain): `redis-cli --cluster rebalance --cluster-weight <new>=0`, the service's del-node, and
MIGRATESLOTS from the new master back to the slots' former owners. Every way gets its own fresh cluster; one cluster
runs at a time. After each move and each drain: every key is on the master owning its slot (COUNTKEYSINSLOT over the
owned slots == DBSIZE, the sum == BENCH_KEYS, a sample of values read back) and `redis-cli --cluster check` reports
no [WARNING]/[ERR] and all 16384 slots covered.

Last (BENCH_THROTTLE=1, the default): the service's throttled reshard, {"method": "keys", "max_keys_per_second":
BENCH_THROTTLE_RATE (default 10 000)}, of 4096 slots from all masters of a Redis cluster holding BENCH_THROTTLE_KEYS keys
(default 400 000, so about 100 000 move); the achieved keys/s (the job's keys_moved over finished_at - started_at) against the limit.

Environment: BENCH_KEYS, BENCH_SERVERS (redis,valkey), BENCH_THROTTLE, BENCH_THROTTLE_KEYS, BENCH_THROTTLE_RATE, BENCH_JSON (default
bench/results/migration.json), RCM_BINARY (default .build/release/redis-cluster-manager).
Loopback only, every port and its cluster-bus port below 32768; every process started here is stopped at the end,
on failure and on Ctrl-C too."""
import atexit
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from array import array
from datetime import datetime

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYS = int(os.environ.get("BENCH_KEYS", "1000000"))
SERVERS = [s.strip() for s in os.environ.get("BENCH_SERVERS", "redis,valkey").split(",") if s.strip()]
THROTTLE = os.environ.get("BENCH_THROTTLE", "1").lower() not in ("0", "", "no", "false", "off")
THROTTLE_KEYS = int(os.environ.get("BENCH_THROTTLE_KEYS", "400000"))
THROTTLE_LIMIT = int(os.environ.get("BENCH_THROTTLE_RATE", "10000"))
JSON_PATH = os.environ.get("BENCH_JSON", os.path.join(ROOT, "bench", "results", "migration.json"))
BINARY = os.environ.get("RCM_BINARY", os.path.join(ROOT, ".build", "release", "redis-cluster-manager"))
SLOTS = 4096
VALUE_SIZE = 100
SERVER_BINARIES = {"redis": "redis-server", "valkey": "valkey-server"}
MOVE_TIMEOUT = 1800  # seconds any single move or drain may take before it counts as failed

CLI_DEFAULT, CLI_PIPE, SERVICE, RAW = "redis-cli", "redis-cli pipe 1000", "service", "MIGRATESLOTS"
DRAIN_NAMES = {CLI_DEFAULT: "redis-cli rebalance weight 0", CLI_PIPE: "redis-cli rebalance w0 pipe 1000",
               SERVICE: "service del-node", RAW: "MIGRATESLOTS back"}

# ---------------------------------------------------------------------------------------------------------------
# Process bookkeeping: everything started is stopped at exit, whatever the exit.

PROCESSES = []


def stop_process(proc, grace=10):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop_all():
    for proc in PROCESSES:
        try:
            stop_process(proc, grace=5)
        except Exception:
            pass


atexit.register(stop_all)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def spawn(args, log_path, **kwargs):
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kwargs)
    PROCESSES.append(proc)
    return proc


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------
# Small helpers

def free_port(taken):
    """A port whose cluster-bus twin (+10000) is free too, both below the ephemeral range (32768+)."""
    for _ in range(10000):
        port = random.randint(10000, 16999)
        if port in taken or port + 10000 in taken:
            continue
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", candidate))
            taken.update((port, port + 10000))
            return port
        except OSError:
            pass
    raise BenchError("no free port pair below 32768")


def cli(*args, timeout=120):
    return subprocess.run(["redis-cli", *args], capture_output=True, text=True, timeout=timeout).stdout


def strip_ansi(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def wait_until(what, condition, timeout=120, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise BenchError(f"timed out after {timeout} s waiting until {what}")


def crc16_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
        table.append(crc)
    return table


CRC16 = crc16_table()


def key_slot(key: bytes) -> int:
    """Redis Cluster's hash slot: CRC16-XMODEM of the key (or of its {hash tag}) modulo 16384."""
    open_brace = key.find(b"{")
    if open_brace != -1:
        close_brace = key.find(b"}", open_brace + 1)
        if close_brace > open_brace + 1:
            key = key[open_brace + 1:close_brace]
    crc = 0
    for byte in key:
        crc = ((crc << 8) & 0xFFFF) ^ CRC16[(crc >> 8) ^ byte]
    return crc & 0x3FFF


def key_name(i):
    return b"key:%d" % i


def value_of(i):
    return (b"v%09d" % i).ljust(VALUE_SIZE, b"x")


def ranges_of(slots):
    """Sorted slot numbers as [(start, end), ...] with both ends inclusive."""
    out = []
    for slot in sorted(slots):
        if out and out[-1][1] == slot - 1:
            out[-1][1] = slot
        else:
            out.append([slot, slot])
    return [tuple(r) for r in out]


def ranges_text(ranges):
    return " ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in ranges)


class Node:
    """One RESP connection to a node, replies raw (no client-side reshaping)."""

    def __init__(self, port, timeout=300):
        self.port = port
        self.conn = redis.Connection(host="127.0.0.1", port=port, socket_timeout=timeout, decode_responses=True)

    def __call__(self, *args):
        self.conn.send_command(*args)
        return self.conn.read_response()

    def send(self, *args):
        self.conn.send_command(*args)

    def reply(self):
        return self.conn.read_response()

    def pipeline(self, commands):
        if not commands:
            return []
        self.conn.send_packed_command(self.conn.pack_commands(commands))
        replies = []
        for _ in commands:
            try:
                replies.append(self.conn.read_response())
            except redis.ResponseError as error:
                replies.append(error)
        return replies

    def info(self, section):
        return dict(line.split(":", 1) for line in self("INFO", section).splitlines() if ":" in line)

    def close(self):
        self.conn.disconnect()


# ---------------------------------------------------------------------------------------------------------------
# The data set: key i is "key:<i>", its value 100 bytes; slots computed once, RESP streams written per slot layout.

class DataSet:
    def __init__(self, count, directory):
        self.count = count
        self.dir = directory
        self.streams = {}
        started = time.monotonic()
        self.slots = array("H", (key_slot(key_name(i)) for i in range(count)))
        print(f"  hash slots of {count} keys computed in {time.monotonic() - started:.1f} s", flush=True)

    def stream_files(self, layout):
        """`layout`: one tuple of (start, end) slot ranges per master. Returns one file per master: the RESP SETs of
        exactly the keys whose slots that master owns, and how many keys each holds."""
        layout = tuple(tuple(r) for r in layout)
        if layout not in self.streams:
            started = time.monotonic()
            owner = bytearray([255]) * 16384
            for index, ranges in enumerate(layout):
                for start, end in ranges:
                    owner[start:end + 1] = bytes([index]) * (end - start + 1)
            parts = [[] for _ in layout]
            for i, slot in enumerate(self.slots):
                key = key_name(i)
                parts[owner[slot]].append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                                          % (len(key), key, VALUE_SIZE, value_of(i)))
            files = []
            for index, commands in enumerate(parts):
                path = os.path.join(self.dir, f"load-{self.count}-{len(self.streams)}-{index}.resp")
                with open(path, "wb") as f:
                    f.write(b"".join(commands))
                files.append((path, len(commands)))
            self.streams[layout] = files
            print(f"  RESP streams for {self.count} keys written in {time.monotonic() - started:.1f} s", flush=True)
        return self.streams[layout]

    def sample(self, n=1000):
        return random.sample(range(self.count), min(n, self.count))


# ---------------------------------------------------------------------------------------------------------------
# A cluster: 3 masters + 3 replicas + 1 empty master, started, loaded, checked and stopped here.

class Cluster:
    def __init__(self, server, name, base, taken):
        self.server = server
        self.name = name
        self.dir = os.path.join(base, name)
        self.ports = [free_port(taken) for _ in range(7)]
        self.procs = []
        self.nodes = {}
        binary = SERVER_BINARIES[server]
        for port in self.ports:
            d = os.path.join(self.dir, str(port))
            os.makedirs(d)
            self.procs.append(spawn(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--dir", d, "--save", "", "--appendonly", "no"],
                os.path.join(d, "server.log")))
        for port in self.ports:
            wait_until(f"{binary} on {port} answers",
                       lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0, 20)
        out = cli("--cluster", "create", *[self.addr(p) for p in self.ports[:6]], "--cluster-replicas", "1", "--cluster-yes")
        if "All 16384 slots covered" not in strip_ansi(out):
            raise BenchError(f"redis-cli --cluster create failed:\n{out}")
        self.wait_converged(self.ports[:6])
        out = cli("--cluster", "add-node", self.addr(self.ports[6]), self.addr(self.ports[0]))
        if "New node added correctly" not in strip_ansi(out):
            raise BenchError(f"redis-cli --cluster add-node failed:\n{out}")
        self.new_port = self.ports[6]
        self.new_id = self.node(self.new_port)("CLUSTER", "MYID")
        self.members = list(self.ports)
        self.wait_converged()
        self.wait_replicas_linked()

    @staticmethod
    def addr(port):
        return f"127.0.0.1:{port}"

    def node(self, port):
        if port not in self.nodes:
            self.nodes[port] = Node(port)
        return self.nodes[port]

    def view(self, port=None):
        """CLUSTER NODES as seen by one node: {id: {"port", "flags", "master", "slots", "link"}}."""
        text = self.node(port or self.members[0])("CLUSTER", "NODES")
        view = {}
        for line in text.strip().splitlines():
            fields = line.split()
            slots = set()
            for item in fields[8:]:
                if item.startswith("["):
                    continue  # an open slot ([slot->-id] / [slot-<-id])
                a, _, b = item.partition("-")
                slots.update(range(int(a), int(b or a) + 1))
            view[fields[0]] = {"port": int(fields[1].split("@")[0].rsplit(":", 1)[1]), "flags": fields[2].split(","),
                               "master": fields[3], "slots": slots, "link": fields[7], "open": "[" in line}
        return view

    def masters(self, port=None):
        return {nid: n for nid, n in self.view(port).items() if "master" in n["flags"]}

    def converged(self, ports):
        reference = None
        for port in ports:
            node = self.node(port)
            if "cluster_state:ok" not in node("CLUSTER", "INFO"):
                return False
            view = self.view(port)
            if len(view) != len(ports):
                return False
            if any(n["link"] != "connected" or {"handshake", "fail", "fail?", "noaddr"} & set(n["flags"]) or n["open"]
                   for n in view.values()):
                return False
            owners = sorted((nid, tuple(sorted(n["slots"]))) for nid, n in view.items() if n["slots"])
            if reference is None:
                reference = owners
            elif owners != reference:
                return False
        return True

    def wait_converged(self, ports=None, timeout=180):
        ports = ports or self.members
        wait_until(f"{self.name}: all {len(ports)} nodes report cluster_state:ok and agree on every slot's owner",
                   lambda: self.converged(ports), timeout, 0.2)

    def wait_replicas_linked(self):
        def linked():
            for nid, n in self.view().items():
                if "slave" in n["flags"] and self.node(n["port"]).info("replication").get("master_link_status") != "up":
                    return False
            return True
        wait_until(f"{self.name}: every replica's link to its master is up", linked, 120, 0.2)

    def layout(self):
        """The masters that own slots, ordered by their first slot, with their ranges."""
        owning = sorted((n for n in self.masters().values() if n["slots"]), key=lambda n: min(n["slots"]))
        return [n["port"] for n in owning], [ranges_of(n["slots"]) for n in owning]

    def load(self, data):
        ports, layout = self.layout()
        started = time.monotonic()
        loaders = []
        for port, (path, count) in zip(ports, data.stream_files(layout)):
            with open(path, "rb") as stream:
                loaders.append((port, count, subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=stream,
                                                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
                PROCESSES.append(loaders[-1][2])
        for port, count, proc in loaders:
            out, _ = proc.communicate(timeout=1800)
            m = re.search(r"errors: (\d+), replies: (\d+)", out)
            if proc.returncode != 0 or not m or int(m.group(1)) != 0 or int(m.group(2)) != count:
                raise BenchError(f"redis-cli --pipe to {port} ({count} SETs): {out.strip()[-500:]}")
        loaded = time.monotonic() - started
        self.wait_replicas_caught_up()
        total = sum(self.node(p)("DBSIZE") for p in ports)
        if total != data.count:
            raise BenchError(f"{self.name}: {total} keys after loading, expected {data.count}")
        print(f"  {self.name}: {data.count} keys loaded in {loaded:.1f} s (3 masters in parallel), replicas caught up "
              f"after {time.monotonic() - started:.1f} s", flush=True)

    def wait_replicas_caught_up(self, timeout=600):
        def caught_up():
            view = self.view()
            for nid, n in view.items():
                if "master" not in n["flags"]:
                    continue
                replicas = [r for r in view.values() if r["master"] == nid]
                if not replicas:
                    continue
                info = self.node(n["port"]).info("replication")
                offset = int(info["master_repl_offset"])
                offsets = [int(m.group(1)) for k, v in info.items() if re.fullmatch(r"(slave|replica)\d+", k)
                           for m in [re.search(r"offset=(\d+)", v)] if m]
                if len(offsets) != len(replicas) or any(o != offset for o in offsets):
                    return False
                size = self.node(n["port"])("DBSIZE")
                if any(self.node(r["port"])("DBSIZE") != size for r in replicas):
                    return False
            return True
        wait_until(f"{self.name}: every replica caught up with its master (INFO replication offsets, DBSIZE)",
                   caught_up, timeout, 0.2)

    def check(self, data, settle=30):
        """Every key on the master owning its slot, the count right, a sample read back, redis-cli --cluster check
        clean. Waits up to `settle` seconds for the counts (Valkey's atomic migration deletes the source's copy of
        moved slots in the background)."""
        deadline = time.monotonic() + settle
        while True:
            result = self._check_keys(data)
            if result["keys_ok"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        out = strip_ansi(cli("--cluster", "check", self.addr(self.members[0])))
        problems = [line.strip() for line in out.splitlines() if "[WARNING]" in line or "[ERR]" in line]
        covered = "[OK] All 16384 slots covered." in out
        result.update(cluster_check_problems=problems, slots_covered=covered)
        result["ok"] = result["keys_ok"] and result["sample_ok"] and covered and not problems
        return result

    def _check_keys(self, data):
        masters = self.masters()
        total, misplaced, per_master = 0, 0, {}
        owner_port = {}
        for nid, n in masters.items():
            node = self.node(n["port"])
            size = node("DBSIZE")
            counted = sum(node.pipeline([("CLUSTER", "COUNTKEYSINSLOT", s) for s in sorted(n["slots"])]))
            total += size
            misplaced += size - counted
            per_master[str(n["port"])] = size
            for s in n["slots"]:
                owner_port[s] = n["port"]
        sample = data.sample()
        by_port = {}
        for i in sample:
            by_port.setdefault(owner_port.get(data.slots[i]), []).append(i)
        bad = 0
        for port, indexes in by_port.items():
            if port is None:
                bad += len(indexes)
                continue
            replies = self.node(port).pipeline([("GET", key_name(i)) for i in indexes])
            bad += sum(1 for i, v in zip(indexes, replies) if v != value_of(i).decode())
        return {"keys": total, "expected": data.count, "misplaced": misplaced, "keys_per_master": per_master,
                "keys_ok": total == data.count and misplaced == 0, "sample": len(sample), "sample_bad": bad,
                "sample_ok": bad == 0}

    def stop(self):
        for node in self.nodes.values():
            try:
                node.close()
            except Exception:
                pass
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def describe_check(c):
    verdict = "OK" if c["ok"] else "FAILED"
    text = (f"{verdict}: {c['keys']}/{c['expected']} keys, {c['misplaced']} outside their master's slots, "
            f"{c['sample'] - c['sample_bad']}/{c['sample']} sampled values right, "
            f"{'all 16384 slots covered' if c['slots_covered'] else 'slots NOT all covered'}, "
            f"redis-cli --cluster check: {'clean' if not c['cluster_check_problems'] else '; '.join(c['cluster_check_problems'][:5])}")
    return text


# ---------------------------------------------------------------------------------------------------------------
# The service

class Service:
    def __init__(self, base, taken):
        if not os.access(BINARY, os.X_OK):
            raise BenchError(f"{BINARY} not found: build it first (make build)")
        self.port = free_port(taken)
        self.log = os.path.join(base, "service.log")
        env = dict(os.environ, RCM_LISTEN=f"127.0.0.1:{self.port}", RCM_DB=os.path.join(base, "rcm.sqlite"))
        self.proc = spawn([BINARY, "serve"], self.log, env=env)

        def healthy():
            if self.proc.poll() is not None:
                raise BenchError(f"the service exited with status {self.proc.returncode}; see {self.log}")
            try:
                return self.http("GET", "/healthz")[0] == 200
            except OSError:
                return False
        wait_until("the service answers /healthz", healthy, 30)

    def http(self, method, path, body=None, timeout=120):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw) if raw else None
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def register(self, cluster):
        status, body = self.http("POST", "/clusters", {"id": cluster.name,
                                                        "seeds": [cluster.addr(p) for p in cluster.ports]})
        if status != 201:
            raise BenchError(f"POST /clusters {cluster.name}: {status} {body}")

    def forget(self, cluster):
        try:
            self.http("DELETE", f"/clusters/{cluster.name}")
        except OSError:
            pass

    def run_job(self, cluster, kind, body):
        """POST the job and long-poll it to its end: (seconds from the POST to the end seen, the final job)."""
        started = time.monotonic()
        status, job = self.http("POST", f"/clusters/{cluster}/{kind}", body)
        if status != 202:
            raise BenchError(f"POST /clusters/{cluster}/{kind} {json.dumps(body)}: {status} {job}")
        deadline = started + MOVE_TIMEOUT
        while job["status"] in ("queued", "running"):
            if time.monotonic() > deadline:
                self.http("POST", f"/jobs/{job['id']}/cancel")
                raise BenchError(f"job {job['id']} ({kind}) still {job['status']} after {MOVE_TIMEOUT} s; cancel requested")
            status, job = self.http("GET", f"/jobs/{job['id']}?wait=60", timeout=90)
            if status != 200:
                raise BenchError(f"GET /jobs/{job}: {status}")
        elapsed = time.monotonic() - started
        if job["status"] != "succeeded":
            _, events = self.http("GET", f"/jobs/{job['id']}/events")
            lines = [f"    {e.get('at')} {e.get('level')} {e.get('node') or ''} {e.get('message')}"
                     for e in (events or {}).get("items", [])]
            raise BenchError(f"job {job['id']} ({kind}) ended {job['status']}: {job.get('error')}\n  its events:\n"
                             + "\n".join(lines[-60:]))
        return elapsed, job

    def stop(self):
        stop_process(self.proc, grace=15)


def job_seconds(job):
    try:
        return (datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------------------------
# The ways to move

def redis_cli_timed(cluster, args, label):
    log = os.path.join(cluster.dir, f"{label}.log")
    started = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(["redis-cli", *args], stdout=out, stderr=subprocess.STDOUT)
        PROCESSES.append(proc)
        try:
            proc.wait(timeout=MOVE_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise BenchError(f"redis-cli {label} still running after {MOVE_TIMEOUT} s")
    elapsed = time.monotonic() - started
    with open(log, errors="replace") as f:
        text = strip_ansi(f.read())
    if proc.returncode != 0 or "[ERR]" in text:
        raise BenchError(f"redis-cli {' '.join(args)} exited {proc.returncode}:\n{text[-2000:]}")
    return elapsed


def redis_cli_plan(cluster):
    """What redis-cli --cluster reshard --cluster-from all takes from each master: sources by slot count (most
    first), the first ceil(), the others floor(4096 / 16384 * its slots), each from its lowest slots."""
    masters = sorted((n for nid, n in cluster.masters().items() if n["slots"] and nid != cluster.new_id),
                     key=lambda n: -len(n["slots"]))
    plan, total = [], sum(len(n["slots"]) for n in masters)
    for i, n in enumerate(masters):
        share = SLOTS / total * len(n["slots"])
        count = int(-(-share // 1)) if i == 0 else int(share)
        plan.append((n, sorted(n["slots"])[:count]))
    return plan


def migrateslots(senders, target, timeout=MOVE_TIMEOUT):
    """`senders`: [(source Node, [("SLOTSRANGE", a, b, ..., "NODE", id), ...])]. Sends every CLUSTER MIGRATESLOTS at
    once, then polls CLUSTER GETSLOTMIGRATIONS on `target` every 10 ms until every new job there is a success.
    Returns the seconds from the first send to the last success."""
    def entries():
        reply = target("CLUSTER", "GETSLOTMIGRATIONS")
        out = []
        for item in reply:
            out.append(item if isinstance(item, dict) else dict(zip(item[0::2], item[1::2])))
        return out
    before = {e["name"] for e in entries()}
    expected = sum(sum(1 for a in args if a == "NODE") for _, args in senders)
    started = time.monotonic()
    for node, args in senders:
        node.send("CLUSTER", "MIGRATESLOTS", *args)
    for node, args in senders:
        try:
            reply = node.reply()
        except redis.ResponseError as error:
            raise BenchError(f"CLUSTER MIGRATESLOTS on {node.port}: {error}")
        if reply != "OK":
            raise BenchError(f"CLUSTER MIGRATESLOTS on {node.port}: {reply}")
    while True:
        jobs = [e for e in entries() if e["name"] not in before]
        ended = [e for e in jobs if e["state"] in ("failed", "cancelled")]
        if ended:
            raise BenchError("atomic slot migration ended without success: "
                             + "; ".join(f"{e['slot_ranges']} {e['state']} {e.get('message')}" for e in ended))
        if len(jobs) >= expected and all(e["state"] == "success" for e in jobs):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise BenchError(f"atomic slot migrations not done after {timeout} s: "
                             + "; ".join(f"{e['slot_ranges']} {e['state']}" for e in jobs))
        time.sleep(0.01)


def move(way, cluster, service):
    """The 4096-slot move to the empty master: {"seconds", ...}."""
    seed = cluster.addr(cluster.ports[0])
    if way in (CLI_DEFAULT, CLI_PIPE):
        args = ["--cluster", "reshard", seed, "--cluster-from", "all", "--cluster-to", cluster.new_id,
                "--cluster-slots", str(SLOTS), "--cluster-yes"]
        if way == CLI_PIPE:
            args += ["--cluster-pipeline", "1000"]
        return {"seconds": redis_cli_timed(cluster, args, "reshard")}
    if way == SERVICE:
        seconds, job = service.run_job(cluster.name, "reshard", {"to": cluster.addr(cluster.new_port), "slots": SLOTS})
        return {"seconds": seconds, "job_id": job["id"], "job_seconds": job_seconds(job),
                "job_keys_moved": job["progress"]["keys_moved"]}
    if way == RAW:
        plan = redis_cli_plan(cluster)
        senders = []
        for n, slots in plan:
            args = ["SLOTSRANGE"] + [x for a, b in ranges_of(slots) for x in (a, b)] + ["NODE", cluster.new_id]
            senders.append((Node(n["port"]), args))
        try:
            seconds = migrateslots(senders, cluster.node(cluster.new_port))
        finally:
            for node, _ in senders:
                node.close()
        return {"seconds": seconds, "ranges": {str(n["port"]): ranges_text(ranges_of(s)) for n, s in plan}}
    raise ValueError(way)


def drain(way, cluster, service, former_owner):
    """Empties the new master again; `former_owner` maps each of its slots to the master it came from."""
    seed = cluster.addr(cluster.ports[0])
    if way in (CLI_DEFAULT, CLI_PIPE):
        args = ["--cluster", "rebalance", seed, "--cluster-weight", f"{cluster.new_id}=0"]
        if way == CLI_PIPE:
            args += ["--cluster-pipeline", "1000"]
        return {"seconds": redis_cli_timed(cluster, args, "drain")}
    if way == SERVICE:
        seconds, job = service.run_job(cluster.name, "del-node", {"node": cluster.addr(cluster.new_port)})
        cluster.members = cluster.ports[:6]
        return {"seconds": seconds, "job_id": job["id"], "job_seconds": job_seconds(job),
                "job_keys_moved": job["progress"]["keys_moved"]}
    if way == RAW:
        new = cluster.masters()[cluster.new_id]
        back = {}
        for slot in new["slots"]:
            back.setdefault(former_owner[slot], []).append(slot)
        args = []
        for owner, slots in sorted(back.items()):
            args += ["SLOTSRANGE"] + [x for a, b in ranges_of(slots) for x in (a, b)] + ["NODE", owner]
        source = Node(cluster.new_port)
        try:
            seconds = migrateslots([(source, args)], cluster.node(cluster.new_port))
        finally:
            source.close()
        return {"seconds": seconds}
    raise ValueError(way)


def run_way(server, way, data, base, taken, service):
    """One way on its own fresh cluster: create, load, move, check, drain, check, stop."""
    name = f"{server}-{way.replace(' ', '-').lower()}"
    record = {"server": server, "way": way, "keys": data.count, "slots": SLOTS}
    cluster = None
    print(f"\n[{server} / {way}]", flush=True)
    try:
        cluster = Cluster(server, name, base, taken)
        if way == SERVICE:
            service.register(cluster)
        cluster.load(data)
        owners_before = {s: nid for nid, n in cluster.masters().items() for s in n["slots"]}

        result = move(way, cluster, service)
        cluster.wait_converged()
        moved = cluster.node(cluster.new_port)("DBSIZE")
        slots_now = len(cluster.masters()[cluster.new_id]["slots"])
        result.update(keys_moved=moved, slots_moved=slots_now, keys_per_second=moved / result["seconds"])
        result["check"] = cluster.check(data)
        record["move"] = result
        print(f"  move: {result['seconds']:.2f} s, {slots_now} slots, {moved} keys"
              + (f" (job: keys_moved {result['job_keys_moved']}, {result['job_seconds']:.2f} s started→finished)"
                 if "job_id" in result else ""), flush=True)
        print(f"  after the move: {describe_check(result['check'])}", flush=True)

        drained = drain(way, cluster, service, owners_before)
        cluster.wait_converged()
        drained.update(keys_moved=moved, keys_per_second=moved / drained["seconds"])
        drained["check"] = cluster.check(data)
        if way != SERVICE:
            left = cluster.masters().get(cluster.new_id)
            drained["slots_left"] = len(left["slots"]) if left else 0
            if drained["slots_left"]:
                drained["check"]["ok"] = False
        record["drain"] = drained
        print(f"  drain ({DRAIN_NAMES[way]}): {drained['seconds']:.2f} s"
              + (f" (job: keys_moved {drained['job_keys_moved']}, {drained['job_seconds']:.2f} s started→finished)"
                 if "job_id" in drained else ""), flush=True)
        print(f"  after the drain: {describe_check(drained['check'])}", flush=True)
    except BenchError as error:
        record["error"] = str(error)
        print(f"  FAILED: {error}", flush=True)
        if way == SERVICE:
            print(f"  (service log: {service.log})", flush=True)
    finally:
        if cluster:
            if way == SERVICE:
                service.forget(cluster)
            cluster.stop()
    return record


# ---------------------------------------------------------------------------------------------------------------
# The throttle: a service reshard limited to THROTTLE_LIMIT keys/s

def run_throttle(base, taken, service):
    print(f"\n[throttle: redis / service reshard, method keys, max_keys_per_second {THROTTLE_LIMIT}]", flush=True)
    record = {"server": "redis", "keys": THROTTLE_KEYS, "limit": THROTTLE_LIMIT}
    cluster = None
    try:
        cluster = Cluster("redis", "redis-throttle", base, taken)
        service.register(cluster)
        # The same 4096-slot move as above (a quarter of the keys), so no master is emptied and turned into a
        # replica afterwards: the job's time is the move's.
        body = {"to": cluster.addr(cluster.new_port), "slots": 4096, "method": "keys",
                "max_keys_per_second": THROTTLE_LIMIT}
        record["request"] = body
        status, reply = service.http("POST", f"/clusters/{cluster.name}/reshard", dict(body, dry_run=True))
        if status != 200:
            record.update(status="unsupported" if status == 400 else "refused", http_status=status, reply=reply)
            detail = reply.get("detail") or reply.get("title") if isinstance(reply, dict) else reply
            print(f"  the service refuses the throttled reshard (dry run answered {status}: {detail}).", flush=True)
            if status == 400:
                print("  It does not accept \"method\" / \"max_keys_per_second\" yet; section skipped.", flush=True)
            return record
        data = DataSet(THROTTLE_KEYS, base)
        cluster.load(data)
        seconds, job = service.run_job(cluster.name, "reshard", body)
        cluster.wait_converged()
        keys_moved = job["progress"]["keys_moved"]
        active = job_seconds(job)
        rate = keys_moved / active if active else None
        record.update(status="ran", seconds=seconds, job_id=job["id"], job_seconds=active, keys_moved=keys_moved,
                      keys_per_second=rate,
                      deviation_percent=(rate - THROTTLE_LIMIT) / THROTTLE_LIMIT * 100 if rate else None,
                      check=cluster.check(data))
        print(f"  {keys_moved} keys moved in {active:.2f} s (started→finished; {seconds:.2f} s from the POST): "
              f"{rate:.0f} keys/s against a limit of {THROTTLE_LIMIT}, {record['deviation_percent']:+.1f} %", flush=True)
        print(f"  after the move: {describe_check(record['check'])}", flush=True)
    except BenchError as error:
        record.update(status="failed", error=str(error))
        print(f"  FAILED: {error}", flush=True)
    finally:
        if cluster:
            service.forget(cluster)
            cluster.stop()
    return record


# ---------------------------------------------------------------------------------------------------------------
# Report

def ratio(base, seconds):
    if not (base and seconds):
        return "-"
    r = base / seconds
    return f"{r:.2f}x" if 0.1 <= r < 100 else f"{r:.3g}x"


def table(records, phase, names):
    rows = []
    header = (f"{'server':7} {'way':33} {'seconds':>9} {'keys moved':>11} {'keys/s':>9} {'vs cli':>8} "
              f"{'vs pipe':>8} {'vs raw':>8}  checks")
    rows.append(header)
    rows.append("-" * len(header))
    for server in SERVERS:
        mine = [r for r in records if r["server"] == server]
        by_way = {r["way"]: r.get(phase) for r in mine}

        def secs(way):
            r = by_way.get(way)
            return r["seconds"] if r else None
        base_cli, base_pipe, base_raw = secs(CLI_DEFAULT), secs(CLI_PIPE), secs(RAW)
        for r in mine:
            result = r.get(phase)
            name = names(r["way"])
            if not result:
                rows.append(f"{server:7} {name:33} {'failed':>9}  {r.get('error', '').splitlines()[0][:70] if r.get('error') else ''}")
                continue
            raw_col = ratio(base_raw, result["seconds"]) if server == "valkey" else ""
            rows.append(f"{server:7} {name:33} {result['seconds']:9.2f} {result['keys_moved']:11d} "
                        f"{result['keys_per_second']:9.0f} {ratio(base_cli, result['seconds']):>8} "
                        f"{ratio(base_pipe, result['seconds']):>8} {raw_col:>8}  "
                        f"{'ok' if result['check']['ok'] else 'FAILED'}")
    return "\n".join(rows)


def versions():
    out = {}
    for server in SERVERS:
        text = subprocess.run([SERVER_BINARIES[server], "--version"], capture_output=True, text=True).stdout
        m = re.search(r"v=(\S+)", text)
        out[server] = m.group(1) if m else text.strip()
    out["redis-cli"] = cli("--version").strip()
    return out


def main():
    unknown = [s for s in SERVERS if s not in SERVER_BINARIES]
    if unknown:
        raise SystemExit(f"BENCH_SERVERS: unknown {unknown}; use redis and/or valkey")
    base = tempfile.mkdtemp(prefix="rcm-migration-bench-")
    taken = set()
    service = None
    records, throttle = [], None
    started = time.monotonic()
    machine = {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(), "versions": versions()}
    servers = ", ".join(f"{s} {machine['versions'][s]}" for s in SERVERS)
    print(f"migration bench: {KEYS} keys of {VALUE_SIZE} bytes, {SLOTS} slots to an empty master; servers "
          f"{servers}; {machine['cpus']} CPUs (shared: load average "
          f"{machine['load_average_at_start'][0]:.2f} at start), loopback", flush=True)
    try:
        service = Service(base, taken)
        data = DataSet(KEYS, base)
        for server in SERVERS:
            ways = [CLI_DEFAULT, CLI_PIPE, SERVICE] + ([RAW] if server == "valkey" else [])
            for way in ways:
                records.append(run_way(server, way, data, base, taken, service))
        if THROTTLE:
            throttle = run_throttle(base, taken, service)
    finally:
        if service:
            service.stop()
        stop_all()
        shutil.rmtree(base, ignore_errors=True)

    print(f"\n=== the move: {SLOTS} slots from all 3 masters to an empty one, {KEYS} keys, 3 masters + 3 replicas + 1 ===")
    print("vs cli / vs pipe / vs raw: that way's seconds ÷ these seconds (above 1x: faster than it)\n")
    print(table(records, "move", lambda w: w))
    print(f"\n=== the drain: the new master emptied again ===\n")
    print(table(records, "drain", lambda w: DRAIN_NAMES[w]))
    if throttle:
        print(f"\n=== the throttle: service reshard, method keys, max_keys_per_second {THROTTLE_LIMIT} ===\n")
        if throttle.get("status") == "ran":
            print(f"{throttle['keys_moved']} keys in {throttle['job_seconds']:.2f} s: {throttle['keys_per_second']:.0f} "
                  f"keys/s, {throttle['deviation_percent']:+.1f} % from the limit; checks "
                  f"{'ok' if throttle['check']['ok'] else 'FAILED'}")
        elif throttle.get("status") in ("unsupported", "refused"):
            print(f"not run: the service answered {throttle['http_status']} to the throttled reshard: {throttle.get('reply')}")
        else:
            print(f"failed: {throttle.get('error', '').splitlines()[0] if throttle.get('error') else ''}")
    print(f"\ntotal {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.2f}")

    os.makedirs(os.path.dirname(os.path.abspath(JSON_PATH)), exist_ok=True)
    with open(JSON_PATH, "w") as f:
        json.dump({"keys": KEYS, "value_bytes": VALUE_SIZE, "slots": SLOTS, "machine": machine, "runs": records,
                   "throttle": throttle}, f, indent=2)
    print(f"results: {JSON_PATH}")
    failed = [r for r in records if "error" in r or not all(r[p]["check"]["ok"] for p in ("move", "drain") if p in r)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
