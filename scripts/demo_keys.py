"""Writes the demo's keys through a real cluster client (redis-py's RedisCluster): most spread over every slot, as
an application's keys are, and a tenth under one hash tag, so one slot stays hot on purpose. A move then shows
progress in keys as it really goes: steady over the spread slots, a long stretch on the hot one.

    python3 scripts/demo_keys.py PORT COUNT
"""
import sys

from redis.cluster import RedisCluster


def main() -> None:
    port, count = int(sys.argv[1]), int(sys.argv[2])
    client = RedisCluster(host="127.0.0.1", port=port)
    value = "x" * 100
    hot = count // 10
    batch = 5000
    for start in range(0, count, batch):
        pipe = client.pipeline(transaction=False)
        for index in range(start, min(start + batch, count)):
            key = f"{{hot}}:{index}" if index < hot else f"key:{index}"
            pipe.set(key, value)
        pipe.execute()
    client.close()
    print(f"wrote {count} keys ({hot} under the hash tag {{hot}}) through 127.0.0.1:{port}")


if __name__ == "__main__":
    main()
