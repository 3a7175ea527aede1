#!/usr/bin/env python3
"""A backup of a live cluster, timed side by side on the same cluster in one run.

The cluster: 3 masters + 3 replicas and the migration bench's empty seventh master (Redis 7, Redis's default settings, so each snapshot waits out the 5 s
repl-diskless-sync-delay), BENCH_BACKUP_KEYS keys (default 1 000 000) of 100-byte values over all slots, loaded as
the migration bench loads them, replicas caught up before anything is timed. Then, one after the other:

  redis-cli          redis-cli --cluster backup <seed> <dir> (one master after the other, each saved on its disk first)
  service, masters   POST /clusters/{id}/backup {"source": "master"} (4 shards at a time, saved on disk and sent, as
                     redis-cli's), from the POST to the end
  service, replicas  POST /clusters/{id}/backup {} (a replica in sync of each shard, 4 at a time)
  service, diskless  POST /clusters/{id}/backup {"transfer": "diskless"} (streamed from the replicas' forks, after
                     their repl-diskless-sync-delay)

Each way's files are checked: one per master, every file passes redis-check-rdb, and their keys add up to the
cluster's. The service's files are also checked against their manifest's SHA-256.

Environment: BENCH_BACKUP_KEYS, BENCH_JSON (default bench/results/backup.json), RCM_BINARY (default
.build/release/redis-cluster-manager). Loopback only; every process started here is stopped at the end."""
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import migration_bench as mb  # noqa: E402  (its cluster, data set and service helpers)

KEYS = int(os.environ.get("BENCH_BACKUP_KEYS", "1000000"))
JSON_PATH = os.environ.get("BENCH_JSON", os.path.join(mb.ROOT, "bench", "results", "backup.json"))


def check_files(paths):
    """(keys in all files, every file passes redis-check-rdb)."""
    keys, ok = 0, True
    for path in paths:
        out = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True).stdout
        found = re.search(r"(\d+) keys read", out)
        ok = ok and "RDB looks OK" in out and found is not None
        keys += int(found.group(1)) if found else 0
    return keys, ok


def run_cli(cluster, directory):
    os.makedirs(directory)
    started = time.monotonic()
    out = mb.cli("--cluster", "backup", cluster.addr(cluster.ports[0]), directory, timeout=1800)
    seconds = time.monotonic() - started
    files = sorted(glob.glob(os.path.join(directory, "*.rdb")))
    if len(files) < 3:  # one per master, the empty seventh node's included
        raise mb.BenchError(f"redis-cli --cluster backup wrote {len(files)} RDB files:\n{out}")
    return seconds, files


def run_service(service, cluster, body):
    seconds, job = service.run_job(cluster.name, "backup", body)
    status, backup = service.http("GET", f"/clusters/{cluster.name}/backups/{job['result']['id']}")
    if status != 200:
        raise mb.BenchError(f"GET the backup: {status} {backup}")
    files = []
    for entry in backup["manifest"]["files"]:
        path = os.path.join(backup["directory"], entry["name"])
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        if digest != entry["sha256"]:
            raise mb.BenchError(f"{path}: sha256 {digest}, the manifest says {entry['sha256']}")
        files.append(path)
    return seconds, files, job


def main():
    base = tempfile.mkdtemp(prefix="rcm-backup-bench-")
    taken = set()
    service = cluster = None
    results = []
    print(f"backup bench: {KEYS} keys of {mb.VALUE_SIZE} bytes, 3 masters + 3 replicas, Redis "
          f"{mb.versions()['redis']}; {os.cpu_count()} CPUs, loopback", flush=True)
    try:
        service = mb.Service(base, taken)
        data = mb.DataSet(KEYS, base)
        cluster = mb.Cluster("redis", "backup", base, taken)
        service.register(cluster)
        cluster.load(data)
        cluster.wait_replicas_caught_up()
        ways = [("redis-cli --cluster backup", lambda: run_cli(cluster, os.path.join(base, "cli-backup")) + (None,)),
                ("service, from the masters", lambda: run_service(service, cluster, {"source": "master"})),
                ("service, from replicas", lambda: run_service(service, cluster, {})),
                ("service, diskless", lambda: run_service(service, cluster, {"transfer": "diskless"}))]
        for name, run in ways:
            print(f"\n[{name}]", flush=True)
            seconds, files, job = run()
            keys, ok = check_files(files)
            size = sum(os.path.getsize(p) for p in files)
            record = {"way": name, "seconds": seconds, "files": len(files), "bytes": size, "keys": keys,
                      "check_ok": ok and keys == KEYS}
            if job:
                record["job_seconds"] = mb.job_seconds(job)
            results.append(record)
            print(f"  {seconds:.2f} s, {len(files)} files, {size / 1e6:.1f} MB, {keys} keys, "
                  f"redis-check-rdb {'ok' if ok else 'FAILED'}", flush=True)
    except mb.BenchError as error:
        print(f"FAILED: {error}", flush=True)
        results.append({"error": str(error)})
    finally:
        if cluster:
            cluster.stop()
        if service:
            service.stop()
        mb.stop_all()
        shutil.rmtree(base, ignore_errors=True)

    timed = [r for r in results if "seconds" in r]
    cli = next((r["seconds"] for r in timed if r["way"].startswith("redis-cli")), None)
    print(f"\n=== backup of {KEYS} keys, 3 shards ===\n")
    print(f"{'way':<30} {'seconds':>8} {'MB':>7} {'keys':>9} {'checks':>7} {'vs cli':>7}")
    for r in timed:
        versus = f"{cli / r['seconds']:.1f}x" if cli else "-"
        print(f"{r['way']:<30} {r['seconds']:>8.2f} {r['bytes'] / 1e6:>7.1f} {r['keys']:>9} "
              f"{'ok' if r['check_ok'] else 'FAILED':>7} {versus:>7}")
    os.makedirs(os.path.dirname(os.path.abspath(JSON_PATH)), exist_ok=True)
    with open(JSON_PATH, "w") as f:
        json.dump({"keys": KEYS, "runs": results}, f, indent=2)
    print(f"results: {JSON_PATH}")
    return 0 if timed and all(r["check_ok"] for r in timed) and len(timed) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
