#!/usr/bin/env python3
"""Schemathesis against the real service and a real Redis Cluster: every check, every phase.

A 3-master/3-replica Redis 7 cluster (redis-server, cluster-enabled, free loopback ports, a temporary directory) is
formed with `redis-cli --cluster create`, the service is started on a free loopback port with a temporary SQLite
file, the cluster is registered as "fuzz", and then

    schemathesis --config-file Tests/Fuzz/schemathesis.toml run openapi.yaml --url http://127.0.0.1:PORT \
        --checks all --phases examples,coverage,fuzzing,stateful --max-examples N --seed S ...

runs with the hooks of Tests/Fuzz/schemathesis_hooks.py (they point some generated requests at the registered cluster
so job submissions and the stateful phase reach real jobs, and keep long-polls short). Fuzzed jobs do run, against
this throwaway cluster. Afterwards the stateful phase's requests are summed up by operation from the ndjson report,
with the job endpoints that links led to.

Nothing is built here: RCM_BINARY (default .build/debug/redis-cluster-manager, made by `swift build --build-tests`)
must exist. Environment:
  RCM_BINARY             the service binary
  RCM_FUZZ_TOKEN         the admin token of the service's tokens file, sent with every request (default: random);
                         the service always runs with a tokens file, as the spec's bearer security says
  RCM_FUZZ_MAX_EXAMPLES  schemathesis --max-examples (default 20)
  RCM_FUZZ_SEED          schemathesis --seed (default: random; the seed used is printed)
  RCM_FUZZ_TIMEOUT       seconds the schemathesis run may take before it counts as failed (default 300)
  RCM_FUZZ_KEEP          keep the temporary directory (logs, database, schemathesis report) for a look afterwards
Arguments after the script name are passed on to schemathesis.

Exits 0 only when schemathesis found nothing and the service is still up; every process started here is stopped and
the temporary directory removed at exit, on failure and on Ctrl-C or SIGTERM too."""
import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.environ.get("RCM_BINARY", os.path.join(ROOT, ".build", "debug", "redis-cluster-manager"))
TOKEN = os.environ.get("RCM_FUZZ_TOKEN", "").strip() or os.urandom(24).hex()
MAX_EXAMPLES = int(os.environ.get("RCM_FUZZ_MAX_EXAMPLES", "20"))
SEED = os.environ.get("RCM_FUZZ_SEED", "").strip() or str(random.randrange(1 << 31))
TIMEOUT = float(os.environ.get("RCM_FUZZ_TIMEOUT", "300"))
KEEP = os.environ.get("RCM_FUZZ_KEEP", "").lower() not in ("", "0", "no", "false")
CLUSTER_ID = "fuzz"
NODES = 6

PROCESSES = []
TEMP_DIR = None


def log(message):
    print(f"[fuzz] {message}", flush=True)


def stop(proc, grace=5):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cleanup():
    for proc in reversed(PROCESSES):
        stop(proc)
    PROCESSES.clear()
    if TEMP_DIR and os.path.isdir(TEMP_DIR):
        if KEEP:
            log(f"kept {TEMP_DIR}")
        else:
            shutil.rmtree(TEMP_DIR, ignore_errors=True)


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def die_with_parent():
    """In the child before exec: SIGTERM when this script dies, even by SIGKILL (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def start(args, log_name, env=None):
    out = open(os.path.join(TEMP_DIR, log_name), "wb")
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True, preexec_fn=die_with_parent)
    out.close()
    PROCESSES.append(proc)
    return proc


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count):
    """`count` ports whose cluster-bus ports (+10000) are free too: 17000-19999 and 27000-29999, below the ephemeral
    range (32768+) and apart from the Swift integration tests' 10000-16999 and 20000-26999."""
    for _ in range(200):
        base = random.randrange(17000, 20000 - count)
        ports = list(range(base, base + count))
        if all(port_is_free(p) and port_is_free(p + 10000) for p in ports):
            return ports
    raise RuntimeError("no free loopback ports for the cluster")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_cli(port, *args, timeout=10):
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args], capture_output=True, text=True,
                          timeout=timeout).stdout


def wait_until(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, subprocess.SubprocessError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def start_cluster():
    ports = free_ports(NODES)
    for port in ports:
        node_dir = os.path.join(TEMP_DIR, f"redis-{port}")
        os.makedirs(node_dir)
        start(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
               "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000", "--dir", node_dir,
               "--save", "", "--appendonly", "no"], f"redis-{port}.log")
    for port in ports:
        wait_until(f"redis-server on {port}", lambda p=port: redis_cli(p, "ping").strip() == "PONG", 15)
    create = subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
                             "--cluster-replicas", "1", "--cluster-yes"], capture_output=True, text=True, timeout=60)
    if create.returncode != 0:
        raise RuntimeError(f"redis-cli --cluster create failed:\n{create.stdout}{create.stderr}")

    def formed():
        return ("cluster_state:ok" in redis_cli(ports[0], "cluster", "info")
                and "All nodes agree" in subprocess.run(["redis-cli", "--cluster", "check", f"127.0.0.1:{ports[0]}"],
                                                        capture_output=True, text=True, timeout=10).stdout)
    wait_until("the cluster to form", formed, 30)
    return ports


def cluster_nodes(port):
    """{"masters": [[id, address], ...], "replicas": [...]} from CLUSTER NODES, for the hooks' dry runs."""
    nodes = {"masters": [], "replicas": []}
    for line in redis_cli(port, "cluster", "nodes").splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        role = "masters" if "master" in fields[2].split(",") else "replicas"
        nodes[role].append([fields[0], fields[1].split("@")[0]])
    return nodes


def request(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if TOKEN:
        req.add_header("Authorization", f"Bearer {TOKEN}")
    with urllib.request.urlopen(req, timeout=10) as response:
        return response.status, response.read()


def start_service():
    port = free_port()
    tokens = os.path.join(TEMP_DIR, "tokens")
    with open(os.open(tokens, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(f"fuzz admin {TOKEN}\n")
    env = dict(os.environ, RCM_LISTEN=f"127.0.0.1:{port}", RCM_DB=os.path.join(TEMP_DIR, "rcm.sqlite"),
               RCM_TOKENS_FILE=tokens)
    env.pop("RCM_ALLOW_REMOTE_NODES", None)
    proc = start([BINARY, "serve"], "service.log", env=env)
    base = f"http://127.0.0.1:{port}"
    wait_until("the service", lambda: proc.poll() is None and request(base, "GET", "/healthz")[0] == 200, 30)
    return proc, base


def run_schemathesis(base, seed_address, nodes, extra):
    args = ["schemathesis", "--config-file", os.path.join(HERE, "schemathesis.toml"),
            "run", os.path.join(ROOT, "openapi.yaml"), "--url", base,
            "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(MAX_EXAMPLES), "--seed", SEED, "--workers", "1",
            "--request-timeout", "20", "--generation-database", "none", "--no-color",
            "--report", "junit,ndjson", "--report-dir", os.path.join(TEMP_DIR, "schemathesis-report")]
    if TOKEN:
        args += ["-H", f"Authorization: Bearer {TOKEN}"]
    args += extra
    env = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks",
               PYTHONPATH=os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")])),
               RCM_FUZZ_SEED_ADDRESS=seed_address, RCM_FUZZ_NODES=json.dumps(nodes))
    log("running: " + " ".join(a if "Authorization" not in a else "'Authorization: Bearer ***'" for a in args))
    # In the temporary directory: schemathesis keeps a per-project cache (.schemathesis/) where it runs.
    proc = subprocess.Popen(args, env=env, cwd=TEMP_DIR, stdin=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=die_with_parent)
    PROCESSES.append(proc)
    try:
        return proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        log(f"schemathesis did not finish within {TIMEOUT:.0f} s")
        stop(proc)
        return 1


def stateful_summary():
    """The stateful phase's requests by operation and status, from the ndjson report; the ones that followed a link
    are marked. Returns the set of operations some link led to."""
    report_dir = os.path.join(TEMP_DIR, "schemathesis-report")
    counts = {}
    for name in sorted(os.listdir(report_dir)) if os.path.isdir(report_dir) else []:
        if not name.endswith(".ndjson"):
            continue
        with open(os.path.join(report_dir, name)) as events:
            for line in events:
                finished = json.loads(line).get("ScenarioFinished")
                if not finished or finished.get("phase") != "stateful":
                    continue
                recorder = finished.get("recorder", {})
                for case_id, case in recorder.get("cases", {}).items():
                    value = case["value"]
                    response = (recorder.get("interactions", {}).get(case_id) or {}).get("response") or {}
                    key = f"{value['method']} {value['path']}"
                    entry = counts.setdefault(key, {"linked": 0, "statuses": {}})
                    status = str(response.get("status_code", "-"))
                    entry["statuses"][status] = entry["statuses"].get(status, 0) + 1
                    entry["linked"] += 1 if case.get("is_transition_applied") else 0
    log("stateful phase, requests by operation (statuses; how many followed a link):")
    for key in sorted(counts, key=lambda k: (k.split(" ", 1)[1], k)):
        statuses = ", ".join(f"{status}x{n}" for status, n in sorted(counts[key]["statuses"].items()))
        log(f"  {key:36} {statuses}; linked {counts[key]['linked']}")
    return {key for key, entry in counts.items() if entry["linked"]}


def main():
    global TEMP_DIR
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    if not os.access(BINARY, os.X_OK):
        log(f"{BINARY} is missing: build it first (swift build --build-tests)")
        return 2
    if shutil.which("schemathesis") is None:
        log("schemathesis is missing: make deps installs it (requirements-test.txt)")
        return 2
    started = time.monotonic()
    TEMP_DIR = tempfile.mkdtemp(prefix="rcm-fuzz-")
    try:
        ports = start_cluster()
        log(f"cluster formed on 127.0.0.1:{ports[0]}-{ports[-1]} ({time.monotonic() - started:.1f} s)")
        service, base = start_service()
        seed_address = f"127.0.0.1:{ports[0]}"
        status, _ = request(base, "POST", "/clusters", {"id": CLUSTER_ID, "seeds": [seed_address]})
        if status != 201:
            raise RuntimeError(f"registering the cluster answered {status}")
        log(f"service on {base}, cluster '{CLUSTER_ID}' registered; schemathesis seed {SEED}")
        code = run_schemathesis(base, seed_address, cluster_nodes(ports[0]), sys.argv[1:])
        linked = stateful_summary()
        job_endpoints = {"GET /jobs/{id}", "GET /jobs/{id}/events", "POST /jobs/{id}/cancel"}
        log(f"job endpoints reached through links in the stateful phase: {', '.join(sorted(linked & job_endpoints)) or 'none'}")
        if service.poll() is not None:
            log(f"the service exited ({service.returncode}) during the run; its log:")
            with open(os.path.join(TEMP_DIR, "service.log"), errors="replace") as f:
                print(f.read()[-8000:])
            code = code or 1
        log(f"{'passed' if code == 0 else 'FAILED'} in {time.monotonic() - started:.1f} s")
        return code
    except (RuntimeError, OSError, subprocess.SubprocessError, urllib.error.URLError) as error:
        log(f"setup failed: {error}")
        return 1
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
