#!/usr/bin/env python3
"""Reads /metrics with the Prometheus project's own parser (prometheus-client) and prints its samples as JSON:
[{"name", "labels", "value"}, ...]. Exit 1 when the exposition does not parse."""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    url, token = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    samples = []
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for sample in family.samples:
            samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value})
    print(json.dumps({"families": families, "samples": samples}))


if __name__ == "__main__":
    try:
        main()
    except ValueError as error:
        print(f"/metrics does not parse: {error}", file=sys.stderr)
        sys.exit(1)
