#!/usr/bin/env python3
"""Read a Prometheus text page on stdin with prometheus_client's parser (a real one, so a page that does
not parse fails) and print what is asked, for tests/e2e/pool.sh:
  prom.py sum NAME [LABEL=VALUE...]   the sum of NAME's samples whose labels match (0 when none)
  prom.py check                       parse only; print the number of families
Exits 3 with one line on stderr when the page does not parse."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others for a malformed page
        print(f"prom.py: the page does not parse: {e}", file=sys.stderr)
        sys.exit(3)
    if sys.argv[1] == "check":
        print(len(families))
        return
    name = sys.argv[2]
    want = dict(a.split("=", 1) for a in sys.argv[3:])
    total = 0.0
    for fam in families:
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in want.items()):
                total += s.value
    print(int(total) if total == int(total) else total)


main()
