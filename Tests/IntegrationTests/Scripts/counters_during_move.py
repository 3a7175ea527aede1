#!/usr/bin/env python3
"""Clients undisturbed: a real cluster client (redis-py RedisCluster) increments counters while the service
reshards slots away from under them.

Usage: counters_during_move.py SEED_PORT SERVICE_PORT CLUSTER_ID TARGET SLOTS [COUNTERS]
Creates COUNTERS (default 2048) counter keys, one per stretch of 16384/COUNTERS slots, so every part of the slot
space has one. Then submits POST /clusters/CLUSTER_ID/reshard {"to": TARGET, "slots": SLOTS} and INCRs the
counters round-robin until the job ends (polled every 200 operations; at most 120 s), counting per key the
increments the server acknowledged and every client exception. Finally reads every counter back.

Prints one JSON line:
  job, job_error      the job's final status and error
  ops                 acknowledged increments; ops_while_running: those after the job was seen running
  errors, error_count the first 50 client exceptions ({"key", "type", "message"}) and how many there were
  lost                keys whose value is below their acknowledged count: {"key", "value", "acked"}
  extra               keys whose value is above it (only possible where an increment raised)
Exits 0 whenever it got as far as the report; the caller judges the findings."""
import json
import sys
import time
import urllib.request


from counters import judge, start

seed_port, service_port, cluster, target, slots = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4],
                                                   int(sys.argv[5]))
count = int(sys.argv[6]) if len(sys.argv) > 6 else 2048
base = f"http://127.0.0.1:{service_port}"




def job_state(job_id):
    with urllib.request.urlopen(f"{base}/jobs/{job_id}") as response:
        return json.load(response)


client, keys, acked = start(seed_port, count)

request = urllib.request.Request(f"{base}/clusters/{cluster}/reshard", method="POST",
                                 headers={"Content-Type": "application/json"},
                                 data=json.dumps({"to": target, "slots": slots}).encode())
with urllib.request.urlopen(request) as response:
    job = json.load(response)

errors, ops, ops_while_running, seen_running = [], 0, 0, False
deadline = time.time() + 120
attempt = 0
while time.time() < deadline:
    key = keys[attempt % len(keys)]
    attempt += 1
    try:
        client.incr(key)
        acked[key] += 1
        ops += 1
        if seen_running:
            ops_while_running += 1
    except Exception as error:  # noqa: BLE001 - every exception a client would see is a finding
        errors.append({"key": key, "type": type(error).__name__, "message": str(error)})
    if attempt % 200 == 0:
        job = job_state(job["id"])
        if job["status"] == "running":
            seen_running = True
        elif job["status"] != "queued":
            break
job = job_state(job["id"])

lost, extra = judge(client, acked)

print(json.dumps({"job": job["status"], "job_error": job.get("error"), "job_id": job["id"], "counters": len(keys),
                  "ops": ops, "ops_while_running": ops_while_running, "errors": errors[:50],
                  "error_count": len(errors), "lost": lost,
                  "extra": extra}))
