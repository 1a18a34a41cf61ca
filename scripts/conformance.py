#!/usr/bin/env python3
"""Run the scim2-tester conformance checks against a SCIM base URL.

Usage:
    SCIM_TOKEN=secret conformance.py --url http://127.0.0.1:8080/scim/v2/default
    conformance.py --url URL --token TOKEN --tags discovery,crud --resource-types User

Prints one table of counts per status, then every result that is not a plain
SUCCESS with its reason, and exits 1 when any result is ERROR or CRITICAL (or
when no check succeeded at all, e.g. the server was unreachable).

Checks are selected with include tags only: scim2-tester's exclude option
cannot be used, because the three base discovery checks carry the "*" tag,
which matches every exclude filter, so excluding anything also skips
discovery and then every other check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from collections import Counter

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server, get_all_available_tags

# Results with these statuses mean the server is wrong.
FAILING = {Status.ERROR, Status.CRITICAL}
TAG_FILTER_REASON = "Skipped due to tag filtering"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="SCIM base URL, e.g. the SCIM Tenant URL")
    parser.add_argument(
        "--token",
        default=os.environ.get("SCIM_TOKEN"),
        help="bearer token (default: $SCIM_TOKEN; none: no Authorization header)",
    )
    parser.add_argument(
        "--tags",
        default="",
        help="comma-separated include tags (default: all checks); "
        f"known tags: {', '.join(get_all_available_tags())}",
    )
    parser.add_argument(
        "--resource-types",
        default="",
        help="comma-separated resource type names to test, e.g. User,Group (default: all)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every result as JSON to FILE")
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    return parser.parse_args(argv)


def split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def base_url(url: str) -> str:
    """Drop the query and fragment of a tenant URL.

    Entra lets admins append feature flags such as ``?aadOptscim062020`` to the
    tenant URL; httpx2 would glue them into the middle of every request path.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.query or parts.fragment:
        print(f"note: ignoring the query/fragment of {url}")
    return urllib.parse.urlunsplit(parts._replace(query="", fragment=""))


def run(args: argparse.Namespace) -> int:
    args.url = base_url(args.url)
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    http = httpx2.Client(base_url=args.url, headers=headers, timeout=args.timeout)
    client = SyncSCIMClient(http)
    results = check_server(
        client,
        include_tags=set(split(args.tags)) or None,
        resource_types=split(args.resource_types) or None,
    )

    counts = Counter(r.status.name for r in results)
    print(f"scim2-tester against {args.url}")
    print(f"{'status':<12} {'count':>5}")
    for status in Status:
        print(f"{status.name:<12} {counts.get(status.name, 0):>5}")
    print(f"{'total':<12} {len(results):>5}")

    filtered = [r for r in results if r.status is Status.SKIPPED and r.reason == TAG_FILTER_REASON]
    if filtered:
        print(f"({len(filtered)} SKIPPED by tag filtering not listed below)")
    notable = [r for r in results if r.status is not Status.SUCCESS and r not in filtered]
    if notable:
        print("\nnon-success results:")
    for r in notable:
        where = f"[{r.resource_type}] " if r.resource_type else ""
        reason = (r.reason or "").replace("\n", " ")
        print(f"  {r.status.name:<10} {where}{r.title}: {reason}")

    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(
                [
                    {
                        "status": r.status.name,
                        "title": r.title,
                        "resource_type": r.resource_type,
                        "tags": sorted(r.tags),
                        "reason": r.reason,
                        "data": repr(r.data) if r.data is not None else None,
                    }
                    for r in results
                ],
                out,
                indent=2,
            )

    failed = sum(counts.get(s.name, 0) for s in FAILING)
    if failed:
        print(f"\nconformance FAILED: {failed} ERROR/CRITICAL result(s)")
        return 1
    if not counts.get(Status.SUCCESS.name):
        print("\nconformance FAILED: no check succeeded")
        return 1
    print("\nconformance OK: no ERROR or CRITICAL result")
    return 0


if __name__ == "__main__":
    sys.exit(run(parse_args(sys.argv[1:])))
