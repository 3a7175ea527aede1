#!/usr/bin/env python3
"""A real cluster client (redis-py) reading and writing while the service reshards.

Usage: client_during_reshard.py SEED_PORT SERVICE_PORT CLUSTER_ID TARGET SLOTS
Loads 20 000 keys, submits the reshard, keeps writing new keys and reading/updating old ones until the job ends
(at most 120 s), then checks every key. Prints one JSON line; exits 0 only with no client error and no lost key.

Usage: client_during_reshard.py writer PORT[,PORT...] STOP_FILE
For tests that break nodes while the test drives the jobs: writes keys w:N (each once, value N) at most about
1000 a second until STOP_FILE exists (at most 300 s), counting errors (expected while a node is down) and
recording when each write was acknowledged. Then reads every acknowledged key back (retrying errors for up to
30 s) and prints one JSON line: the writes acknowledged, the errors, and each lost key with its slot and the
time (epoch seconds) it was acknowledged, so the test can tell writes lost to a crash from any other loss."""
import json, os, sys, time, urllib.request

import redis


def writer(ports, stop_file):
    from redis.cluster import ClusterNode
    client = redis.RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port) for port in ports],
                                socket_timeout=2, socket_connect_timeout=1)
    acked, attempted, errors, samples = [], 0, 0, []
    started = time.time()
    while not os.path.exists(stop_file) and time.time() - started < 300:
        try:
            client.set(f"w:{attempted}", attempted)
            acked.append((attempted, time.time()))
        except Exception as error:  # redis-py raises several kinds while nodes die and slots move
            errors += 1
            if len(samples) < 5:
                samples.append(f"{type(error).__name__}: {error}")
            time.sleep(0.05)
        attempted += 1
        time.sleep(0.001)
    lost = []
    deadline = time.time() + 30
    for index, at in acked:
        while True:
            try:
                value = client.get(f"w:{index}")
                break
            except Exception:
                if time.time() > deadline:
                    value = None
                    break
                time.sleep(0.1)
        if value != str(index).encode():
            lost.append([f"w:{index}", client.keyslot(f"w:{index}"), at])
    print(json.dumps({"acknowledged": len(acked), "attempted": attempted, "errors": errors, "error_samples": samples,
                      "lost": lost[:200], "lost_count": len(lost)}))


if len(sys.argv) == 4 and sys.argv[1] == "writer":
    writer([int(port) for port in sys.argv[2].split(",")], sys.argv[3])
    sys.exit(0)

seed_port, service_port, cluster, target, slots = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
base = f"http://127.0.0.1:{service_port}"
client = redis.RedisCluster(host="127.0.0.1", port=seed_port)
pipe = client.pipeline()
for i in range(20000):
    pipe.set(f"old:{i}", i)
pipe.execute()

request = urllib.request.Request(f"{base}/clusters/{cluster}/reshard", method="POST",
                                 data=json.dumps({"to": target, "slots": slots}).encode(),
                                 headers={"Content-Type": "application/json"})
job = json.load(urllib.request.urlopen(request))
errors, operations, written = [], 0, 0
deadline = time.time() + 120
while time.time() < deadline:
    try:
        client.set(f"new:{written}", written)
        written += 1
        i = operations % 20000
        value = client.get(f"old:{i}")
        if value is None or int(value) != i:
            errors.append(f"old:{i} read {value!r}")
        client.incr(f"old:{i}")
        client.decr(f"old:{i}")
        operations += 1
    except redis.RedisError as error:
        errors.append(f"{type(error).__name__}: {error}")
    if operations % 200 == 0:
        job = json.load(urllib.request.urlopen(f"{base}/jobs/{job['id']}"))
        if job["status"] not in ("queued", "running"):
            break
lost = [f"new:{k}" for k in range(written) if client.get(f"new:{k}") is None]
lost += [f"old:{k}" for k in range(20000) if client.get(f"old:{k}") != str(k).encode()]
print(json.dumps({"job": job["status"], "operations": operations, "written": written,
                  "errors": errors[:10], "lost": lost[:10], "lost_count": len(lost)}))
sys.exit(0 if job["status"] == "succeeded" and not errors and not lost else 1)
