#!/usr/bin/env python3
"""Clients undisturbed by a sequence of jobs: redis-py's RedisCluster increments counters while the service runs
the jobs one after the other (e.g. replace-node for every node of a cluster).

Usage: counters_during_jobs.py SEED_PORT SERVICE_PORT CLUSTER_ID JOBS_JSON [COUNTERS]
JOBS_JSON is a list of [kind, body] pairs. COUNTERS (default 512) counter keys, one per stretch of the slot space.
Each job is submitted once the previous one ended, and the counters are INCRed round-robin until it ends (polled
every 100 operations; at most 180 s a job). After each job, `redis-cli --cluster check` runs against a master of
the topology the service reports. Finally every counter is read back.

Prints one JSON line:
  jobs                one entry per job: {"kind", "id", "status", "error", "check_clean", "check"}
  ops, errors, error_count, lost, extra   as counters_during_move.py reports them
Exits 0 whenever it got as far as the report; the caller judges the findings."""
import json
import subprocess
import sys
import time
import urllib.request


from counters import judge, start

seed_port, service_port, cluster = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
jobs_to_run = json.loads(sys.argv[4])
count = int(sys.argv[5]) if len(sys.argv) > 5 else 512
base = f"http://127.0.0.1:{service_port}"




def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", method=method, data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return {"status": "refused", "error": error.read().decode(), "id": None}


def check():
    topology = call("GET", f"/clusters/{cluster}/topology")
    master = next(node["address"] for node in topology["nodes"] if node["role"] == "master" and node.get("reachable"))
    output = subprocess.run(["redis-cli", "--cluster", "check", master], capture_output=True, text=True).stdout
    clean = ("[OK] All nodes agree about slots configuration." in output and "[OK] All 16384 slots covered." in output
             and "[ERR]" not in output and "[WARNING]" not in output)
    return clean, output


client, keys, acked = start(seed_port, count)
errors, ops, attempt = [], 0, 0
report = []
for kind, body in jobs_to_run:
    job = call("POST", f"/clusters/{cluster}/{kind}", body)
    deadline = time.time() + 180
    while job.get("id") is not None and time.time() < deadline:
        key = keys[attempt % len(keys)]
        attempt += 1
        try:
            client.incr(key)
            acked[key] += 1
            ops += 1
        except Exception as error:  # noqa: BLE001 - every exception a client would see is a finding
            errors.append({"key": key, "type": type(error).__name__, "message": str(error)})
            time.sleep(0.01)
        if attempt % 100 == 0:
            job = call("GET", f"/jobs/{job['id']}")
            if job["status"] not in ("queued", "running"):
                break
    clean, output = check()
    report.append({"kind": kind, "id": job.get("id"), "status": job.get("status"), "error": job.get("error"),
                   "check_clean": clean, "check": output[-1500:]})
    if job.get("status") != "succeeded":
        break

lost, extra = judge(client, acked)

print(json.dumps({"jobs": report, "counters": len(keys), "ops": ops, "errors": errors[:50], "error_count": len(errors),
                  "lost": lost, "extra": extra}))
