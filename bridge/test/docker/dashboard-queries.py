#!/usr/bin/env python3
"""Runs every PromQL expression of the Grafana dashboard against a live Prometheus (make test-docker): each must
parse and evaluate without error, and the panels about the simulated meter must return data.
Usage: dashboard-queries.py http://127.0.0.1:PORT grafana/dashboards/dlms-bridge.json"""
import json
import re
import sys
import urllib.parse
import urllib.request

base, path = sys.argv[1], sys.argv[2]
exprs = []


def walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "query") and isinstance(value, str) and value.strip():
                exprs.append(value)
            else:
                walk(value)
    elif isinstance(node, list):
        for item in node:
            walk(item)


walk(json.load(open(path)))
failed, empty = 0, 0
for expr in exprs:
    label_values = re.fullmatch(r"label_values\((.*),\s*\w+\)", expr.strip())
    query = label_values.group(1) if label_values else expr  # a Grafana variable query: its metric selector
    query = query.replace("$__rate_interval", "1m").replace("${meter}", ".*").replace("$meter", ".*")
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        answer = json.load(urllib.request.urlopen(url, timeout=10))
    except urllib.error.HTTPError as error:
        answer = json.load(error)
    if answer.get("status") != "success":
        failed += 1
        print(f"FAIL {expr!r}: {answer.get('error')}")
    elif not answer["data"]["result"]:
        empty += 1
        print(f"empty {expr!r}")
print(f"{len(exprs)} dashboard queries: {len(exprs) - failed} valid, {failed} invalid, {empty} without data yet")
sys.exit(1 if failed else 0)
