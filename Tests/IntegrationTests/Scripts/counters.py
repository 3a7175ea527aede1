"""What the counter scripts share: the keys they count with, and the judgement of what a client acknowledged."""
import redis
from redis.crc import key_slot


def counter_keys(count):
    """One key per stretch of 16384/count slots: the first `counter:N` that hashes into each stretch."""
    width = 16384 / count
    chosen, n = {}, 0
    while len(chosen) < count:
        key = f"counter:{n}"
        chosen.setdefault(int(key_slot(key.encode()) / width), key)
        n += 1
    return [chosen[stretch] for stretch in sorted(chosen)]


def start(seed_port, count):
    """A cluster client, `count` counters set to 0, and their acknowledged increments (none yet)."""
    keys = counter_keys(count)
    client = redis.RedisCluster(host="127.0.0.1", port=seed_port)
    pipe = client.pipeline()
    for key in keys:
        pipe.set(key, 0)
    pipe.execute()
    return client, keys, dict.fromkeys(keys, 0)


def judge(client, acked):
    """Reads every counter back: (lost, extra), the keys below and above their acknowledged increments."""
    lost, extra = [], []
    for key, count in acked.items():
        raw = client.get(key)
        value = int(raw) if raw is not None else None
        if value is None or value < count:
            lost.append({"key": key, "value": value, "acked": count})
        elif value > count:
            extra.append({"key": key, "value": value, "acked": count})
    return lost, extra
