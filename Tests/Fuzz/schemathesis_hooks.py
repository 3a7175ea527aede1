"""Schemathesis hooks for Tests/Fuzz/run_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

Random data never names the live cluster, so without help registration would always be a 422, the stateful phase
would have no registered cluster to follow links from, and the planners would only ever see unknown nodes. Two
rewrites of valid (positive) requests keep them valid and point them at the cluster the runner started:

* half of the registrations (by their generated id; all of them in the stateful phase) get the live seed
  (RCM_FUZZ_SEED_ADDRESS) and no credentials, so they answer 201 (or 409 for an id already taken) and links carry
  their ids on to topology, snapshots, job submissions and from there to the jobs;
* dry runs ("dry_run": true, which change nothing) of the kinds that name nodes get real node ids or addresses
  (RCM_FUZZ_NODES, JSON {"masters": [[id, address], ...], "replicas": [...]}), so their plans are made for real.

Jobs that are really queued run against that throwaway cluster as generated (schemathesis reuses node ids and
addresses it saw in topology answers, so some fail over, reshard or remove real nodes; that is fine). To keep the run
bounded in time whatever the jobs do, a long-poll's valid `wait` (0-300 s) is cut to at most WAIT_LIMIT seconds; the
whole range is covered by the Swift tests."""
import json
import os
import re
import zlib

import schemathesis

SEED_ADDRESS = os.environ.get("RCM_FUZZ_SEED_ADDRESS", "")
NODES = json.loads(os.environ.get("RCM_FUZZ_NODES") or '{"masters": [], "replicas": []}')
MASTERS = NODES.get("masters", [])
REPLICAS = NODES.get("replicas", [])


def _pick(nodes, value):
    """A node chosen by the generated value, named by its id or its address (also by the value)."""
    digest = zlib.crc32(json.dumps(value, sort_keys=True).encode())
    node_id, address = nodes[digest % len(nodes)]
    return node_id if (digest >> 8) % 2 else address


def _registration(body, stateful):
    cluster_id = body.get("id")
    if not SEED_ADDRESS or not isinstance(cluster_id, str) or (not stateful and zlib.crc32(cluster_id.encode()) % 2):
        return body
    return {"id": cluster_id, "seeds": [SEED_ADDRESS]}


def _dry_run(path, body):
    if not MASTERS or not REPLICAS:
        return body
    kind = path.rsplit("/", 1)[-1]
    body = dict(body)
    if kind == "del-node" and "node" in body:
        body["node"] = _pick(MASTERS + REPLICAS, body["node"])
    elif kind == "failover" and "replica" in body:
        body["replica"] = _pick(REPLICAS, body["replica"])
    elif kind == "reshard" and "to" in body:
        body["to"] = _pick(MASTERS, body["to"])
        if isinstance(body.get("from"), list):
            body["from"] = [_pick(MASTERS, [index, item]) for index, item in enumerate(body["from"])]
    elif kind == "replace-node" and "node" in body:
        body["node"] = _pick(MASTERS + REPLICAS, body["node"])
    elif kind == "add-node" and "master" in body:
        body["master"] = _pick(MASTERS, body["master"])
    elif kind == "rebalance" and isinstance(body.get("weights"), dict):
        body["weights"] = {_pick(MASTERS, node): weight for node, weight in body["weights"].items()}
    return body


WAIT_LIMIT = 2


@schemathesis.hook
def map_case(context, case):
    operation = context.operation
    if operation is not None and operation.method.upper() == "GET" and operation.path == "/jobs/{id}":
        wait = (case.query or {}).get("wait")
        if isinstance(wait, (int, float)) and not isinstance(wait, bool) and 0 <= wait <= 300:
            case.query["wait"] = min(wait, WAIT_LIMIT)
        elif isinstance(wait, str) and re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", wait):
            if 0 <= float(wait) <= 300 and float(wait) > WAIT_LIMIT:
                case.query["wait"] = str(WAIT_LIMIT)
        return case
    if (operation is None or operation.method.upper() != "POST" or case.meta is None
            or not case.meta.generation.mode.is_positive or not isinstance(case.body, dict)):
        return case
    if operation.path == "/clusters":
        case.body = _registration(case.body, case.meta.phase.name == "stateful")
    elif operation.path.startswith("/clusters/{id}/") and case.body.get("dry_run") is True:
        case.body = _dry_run(operation.path, case.body)
    return case
