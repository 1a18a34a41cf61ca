#!/usr/bin/env python3
"""A SCIM-aware HTTP fuzzer for sshward's SCIM routes (scripts/fuzz.sh runs it).

Each request starts from a shape Microsoft Entra ID is known to send (the filters,
creates, PATCHes, group member changes and discovery reads of docs/operations.md) and is
then mutated: JSON values replaced by values of other types, keys dropped or added,
PATCH ops, paths and filters garbled, bodies truncated or flipped at the byte level,
path segments, query parameters and headers (media type, token, If-Match) changed.
About one request in four goes out unmutated, so that real users and groups exist for
the mutated ones to hit.

Every answer is checked against the contract: no 5xx, `application/scim+json` always,
an error body in RFC 7644's error schema whose `status` is the HTTP status, real
booleans in resources. Failures are written as JSON lines to --failures and the run
exits 1 if there is any.

Only the standard library: it runs with any Python >= 3.11.
"""

import argparse
import http.client
import json
import multiprocessing
import random
import sys
import time
import urllib.parse

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
ENTRA_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
SCIM_TYPES = {
    "uniqueness", "invalidFilter", "invalidSyntax", "invalidPath", "invalidValue",
    "mutability", "tooMany", "noTarget", "tooLarge", "sensitive", "invalidVers",
}

# Tokens that filters and paths are made of, for mutation.
FILTER_WORDS = [
    "userName", "externalId", "id", "displayName", "active", "emails", "emails.value",
    'emails[type eq "work"].value', "name.givenName", "name.familyName", "members",
    'members[value eq "x"]', "meta.lastModified", "meta.created", f"{CORE_USER}:userName",
    f"{ENTERPRISE}:employeeNumber", f"{ENTERPRISE}:manager.value", "title", "roles",
    "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "and", "or", "not",
    "EQ", "Eq", "(", ")", "[", "]", '"', "\\", ".", ":", " ", "  ", "true", "false",
    "null", "True", "0", "-1", "1e400", "2026-12-02T00:00:00Z", '"x"', '""', "\x00",
    "\u00e9", "\U0001f600", "\ud800", "%", "+", "%22", "'", "*", "\n", "\t", "a" * 300,
]
PATCH_PATHS = [
    "active", "displayName", "userName", "externalId", "name.givenName", "name.familyName",
    "name.formatted", 'emails[type eq "work"].value', 'emails[type eq "work"]', "emails",
    'emails[type eq "work"].primary', f"{ENTERPRISE}:employeeNumber", f"{ENTERPRISE}:manager",
    f"{ENTERPRISE}:department", "members", 'members[value eq "x"]', "roles", "title",
    'addresses[type eq "work"].streetAddress', "phoneNumbers", "meta.created", "id",
    "schemas", "", "name", "emails[", "members[value eq]", "x.y.z",
]
WEIRD_VALUES = [
    None, True, False, 0, -1, 1.5, 10**30, "True", "False", "", " ", "x" * 5000,
    "line\nbreak", "\x1b[31m", "\u0000", "\U0001f600", [], [None], [[]], {}, {"value": None},
    {"value": {"value": {}}}, [{"value": "x", "primary": "True"}], {"": ""},
    {"$ref": 1}, "urn:ietf:params:scim:schemas:core:2.0:User", -(2**63), 2**64,
]
CONTENT_TYPES = [
    "application/scim+json", "application/json", "application/json; charset=utf-8",
    "application/scim+json; charset=latin1", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/xml", "", "*/*", "application/",
]


def entra_user(rng, n):
    """A create body as Entra sends it (docs/operations.md: attribute mappings)."""
    upn = f"fuzz{n}@contoso.com"
    active = rng.choice([True, False, "True", "False"])
    return {
        "schemas": [CORE_USER, ENTERPRISE],
        "externalId": f"fuzz{n}",
        "userName": upn,
        "active": active,
        "displayName": f"Fuzz {n}",
        "emails": [{"primary": rng.choice([True, "True"]), "type": "work", "value": upn}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"Fuzz {n}", "familyName": str(n), "givenName": "Fuzz"},
        "roles": [],
        ENTERPRISE: {"employeeNumber": str(n), "manager": rng.choice(["boss", {"value": "boss"}])},
    }


def entra_group(rng, n, members):
    body = {
        "schemas": [CORE_GROUP, ENTRA_GROUP],
        "externalId": f"grp-{n}",
        "displayName": f"Fuzz Group {n}",
        "meta": {"resourceType": "Group"},
    }
    if members and rng.random() < 0.5:
        body["members"] = [{"value": m} for m in members]
    return body


def patch_body(ops):
    return {"schemas": [PATCH_OP], "Operations": ops}


def user_patches(rng, n):
    op = rng.choice(["Replace", "replace", "Add", "add", "Remove", "remove"])
    return rng.choice([
        patch_body([{"op": "Replace", "path": "active", "value": rng.choice(["False", "True", False])}]),
        patch_body([{"op": "replace", "value": {"name.givenName": "A", f"{ENTERPRISE}:employeeNumber": "7",
                                                "active": "False", "displayName": f"Renamed {n}"}}]),
        patch_body([{"op": op, "path": 'emails[type eq "work"].value', "value": f"new{n}@contoso.com"}]),
        patch_body([{"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "someone"}]),
        patch_body([{"op": op, "path": rng.choice(PATCH_PATHS), "value": rng.choice(WEIRD_VALUES)}]),
    ])


def group_patches(rng, users):
    some = [{"value": u} for u in rng.sample(users, min(len(users), rng.randint(1, 3)))] or [{"value": "x"}]
    return rng.choice([
        patch_body([{"op": "Add", "path": "members", "value": some}]),
        patch_body([{"op": "Remove", "path": "members", "value": some}]),
        patch_body([{"op": "Remove", "path": f'members[value eq "{some[0]["value"]}"]'}]),
        patch_body([{"op": "Replace", "path": "displayName", "value": f"Renamed {rng.randint(0, 10**6)}"}]),
        patch_body([{"op": "replace", "path": "members", "value": some}]),
    ])


def entra_filters(rng, users, groups):
    guid = "%08x-0000-4000-8000-%012x" % (rng.getrandbits(32), rng.getrandbits(48))
    n = rng.randint(0, 200)
    gid = rng.choice(groups) if groups else "x"
    return rng.choice([
        f'userName eq "{guid}"',
        f'userName eq "fuzz{n}@contoso.com"',
        f"externalId eq fuzz{n}",
        f'externalId eq "fuzz{n}"',
        f'emails[type eq "work"].value eq "fuzz{n}@contoso.com"',
        f'displayName eq "Fuzz Group {n}"',
        f'members[value eq "{rng.choice(users) if users else "x"}"]',
        f'id eq "{gid}"',
        'active eq false and name.givenName sw "F"',
        '(userName co "fuzz" or displayName pr) and not (active eq true)',
        f'meta.lastModified gt "2020-01-01T00:00:00Z"',
        f'{ENTERPRISE}:employeeNumber eq "{n}"',
    ])


def mutate_filter(rng, text):
    words = text.split(" ")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(words) + 1)
        choice = rng.random()
        if choice < 0.4:
            words.insert(i, rng.choice(FILTER_WORDS))
        elif choice < 0.7 and words:
            del words[min(i, len(words) - 1)]
        elif words:
            words[min(i, len(words) - 1)] = rng.choice(FILTER_WORDS)
    return " ".join(words)


def mutate_json(rng, value, depth=0):
    """A copy of `value` with random changes in its structure and values."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            r = rng.random()
            if r < 0.08:
                continue  # dropped
            if r < 0.12:
                k = rng.choice([k.upper(), k.lower(), k + ".x", f"{CORE_USER}:{k}", "", "\x00"])
            out[k] = mutate_json(rng, v, depth + 1) if rng.random() < 0.5 else v
        if rng.random() < 0.1:
            out[rng.choice(["extra", "schemas", "id", "meta", "members", "Operations", "op", "path"])] = rng.choice(WEIRD_VALUES)
        return out
    if isinstance(value, list):
        out = [mutate_json(rng, v, depth + 1) if rng.random() < 0.5 else v for v in value]
        if rng.random() < 0.1:
            out.append(rng.choice(WEIRD_VALUES))
        if out and rng.random() < 0.1:
            out = out * rng.randint(2, 50)
        return out
    if isinstance(value, str) and rng.random() < 0.3 and depth > 0:
        if "[" in value or "." in value or " eq " in value:
            return mutate_filter(rng, value)
        return rng.choice([value.upper(), value + rng.choice(FILTER_WORDS), value[: rng.randint(0, len(value))]])
    if rng.random() < 0.5:
        return rng.choice(WEIRD_VALUES)
    return value


def mutate_bytes(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        r = rng.random()
        if not data or r < 0.3:
            data[rng.randint(0, len(data)):rng.randint(0, len(data))] = rng.choice(
                [b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\u0000", b"\\ud800", b"\xff\xfe", b"\x00", b"1e999999", b"-"]
            )
        elif r < 0.6:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif r < 0.8:
            del data[rng.randrange(len(data)):]
        else:
            data = data + data[: rng.randint(0, len(data))]
    return bytes(data)


def mutate_path(rng, path):
    parts = path.split("/")
    i = rng.randrange(4, len(parts) + 1) if len(parts) > 4 else len(parts)
    part = rng.choice([
        "", "..", ".", "Users", "users", "USERS", "Groups", ".search", "Me", "Bulk", "x" * 2000,
        "%00", "%2F", "%ff", "%e2%82%ac", "a%20b", "00000000-0000-0000-0000-000000000000",
        "ServiceProviderConfig", "Schemas", "ResourceTypes", ";", "*", "'", "%",
    ])
    if i < len(parts) and rng.random() < 0.6:
        parts[i] = part
    else:
        parts.insert(i, part)
    return "/".join(parts)


def encode(rng, params):
    """A query string; lone surrogates go out as the invalid UTF-8 they are."""
    quote = rng.choice([urllib.parse.quote, urllib.parse.quote_plus])
    return urllib.parse.urlencode(params, quote_via=quote, errors="surrogatepass")


def mutate_query(rng, query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    names = ["filter", "startIndex", "count", "attributes", "excludedAttributes", "sortBy",
             "sortOrder", "aadOptscim062020", "Filter", "COUNT", "startindex", ""]
    values = ["-1", "0", "1", "99999999999999999999", "abc", "", "1.5", "members", "emails.value",
              "userName,meta", "descending", "sideways", mutate_filter(rng, "userName eq \"x\""), "\x00"]
    for _ in range(rng.randint(1, 3)):
        pairs.append((rng.choice(names), rng.choice(values)))
    if pairs and rng.random() < 0.3:
        rng.shuffle(pairs)
    text = encode(rng, pairs)
    if rng.random() < 0.1:
        text += rng.choice(["&", "&&", "=", "%", "%zz", "filter", "a=%22"])
    return text


class Worker:
    def __init__(self, args, index):
        self.args = args
        self.rng = random.Random(f"{args.seed}-{index}")
        self.index = index
        self.host, self.port = urllib.parse.urlsplit(args.base).netloc.split(":")
        self.conn = None
        self.base = f"/scim/v2/{args.team}"
        self.users, self.groups = [], []
        self.created = 0
        self.sent = 0
        self.failures = []
        self.statuses = {}

    def connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        return self.conn

    def send(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        for attempt in range(3):
            conn = self.connection()
            try:
                conn.putrequest(method, path, skip_accept_encoding=True)
                for k, v in headers.items():
                    conn.putheader(k, v)
                if body is not None:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                res = conn.getresponse()
                data = res.read()
                if res.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return res.status, {k.lower(): v for k, v in res.getheaders()}, data
            except (http.client.HTTPException, ConnectionError, TimeoutError) as e:
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    return None, {}, repr(e).encode()
        return None, {}, b""

    def check(self, method, path, headers, body, status, res_headers, data):
        """The contract of a SCIM answer; a list of what is wrong."""
        wrong = []
        if status is None:
            return [f"no answer: {data[:200]!r}"]
        if status >= 500:
            wrong.append(f"server error {status}")
        ctype = res_headers.get("content-type", "")
        if method == "HEAD":  # no body, by definition
            if status >= 400 and not ctype.startswith("application/scim+json"):
                wrong.append(f"content type {ctype!r}")
            return wrong
        if status not in (204, 304) or data:
            if not ctype.startswith("application/scim+json"):
                wrong.append(f"content type {ctype!r}")
            try:
                doc = json.loads(data)
            except ValueError:
                return wrong + [f"not JSON: {data[:200]!r}"]
            if status >= 400:
                if not isinstance(doc, dict) or doc.get("schemas") != [ERROR]:
                    wrong.append("error without the SCIM error schema")
                elif doc.get("status") != str(status):
                    wrong.append(f"error status {doc.get('status')!r} is not {status}")
                elif not isinstance(doc.get("detail"), str):
                    wrong.append("error without a detail")
                elif "scimType" in doc and doc["scimType"] not in SCIM_TYPES:
                    wrong.append(f"unknown scimType {doc['scimType']!r}")
            elif isinstance(doc, dict):
                for resource in doc.get("Resources", [doc]):
                    if isinstance(resource, dict) and "active" in resource and not isinstance(resource["active"], bool):
                        wrong.append(f"active is {resource['active']!r}, not a boolean")
                    for email in resource.get("emails", []) if isinstance(resource, dict) else []:
                        if "primary" in email and not isinstance(email["primary"], bool):
                            wrong.append("emails.primary is not a boolean")
        elif status >= 400:
            wrong.append("an error without a body")
        return wrong

    def request(self):
        """One request: an Entra shape, mutated three times in four."""
        rng = self.rng
        n = rng.randint(0, 10**9)
        token = self.args.token
        users, groups = self.users, self.groups
        uid = rng.choice(users) if users and rng.random() < 0.9 else rng.choice(["x", "0", "", "%00"])
        gid = rng.choice(groups) if groups and rng.random() < 0.9 else "x"
        kind = rng.random()
        query = ""
        body = None
        method = "GET"
        if kind < 0.25:
            path = "/Users" if rng.random() < 0.7 else "/Groups"
            params = {"filter": entra_filters(rng, users, groups)}
            if rng.random() < 0.3:
                params["excludedAttributes"] = "members"
            if rng.random() < 0.2:
                params.update(startIndex=str(rng.randint(0, 5)), count=str(rng.randint(0, 5)))
            query = encode(rng, params)
        elif kind < 0.40:
            method, path, body = "POST", "/Users", entra_user(rng, n)
        elif kind < 0.47:
            method, path, body = "POST", "/Groups", entra_group(rng, n, rng.sample(users, min(3, len(users))))
        elif kind < 0.62:
            method, path, body = "PATCH", f"/Users/{uid}", user_patches(rng, n)
        elif kind < 0.74:
            method, path, body = "PATCH", f"/Groups/{gid}", group_patches(rng, users or ["x"])
        elif kind < 0.79:
            method, path, body = "PUT", f"/Users/{uid}", entra_user(rng, n)
        elif kind < 0.83:
            method, path = "GET", rng.choice([f"/Users/{uid}", f"/Groups/{gid}"])
            if rng.random() < 0.5:
                query = "excludedAttributes=members" if "Groups" in path else "attributes=userName,emails"
        elif kind < 0.88:
            method = "POST"
            path = rng.choice(["/.search", "/Users/.search", "/Groups/.search"])
            body = {"schemas": [SEARCH], "filter": entra_filters(rng, users, groups),
                    "startIndex": rng.randint(1, 3), "count": rng.randint(0, 10)}
        elif kind < 0.93:
            path = rng.choice(["/ServiceProviderConfig", "/Schemas", "/ResourceTypes", "/ResourceTypes/User",
                               f"/Schemas/{CORE_USER}", f"/Schemas/{ENTERPRISE}", "/ResourceTypes/Group"])
        else:
            method, path = "DELETE", rng.choice([f"/Users/{uid}", f"/Groups/{gid}"])
        path = self.base + path
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
        raw = json.dumps(body).encode() if body is not None else None
        mutated = rng.random() < self.args.mutate
        if mutated:
            for _ in range(rng.randint(1, 3)):
                what = rng.random()
                if what < 0.35 and body is not None:
                    raw = json.dumps(mutate_json(rng, body)).encode()
                elif what < 0.45 and raw is not None:
                    raw = mutate_bytes(rng, raw)
                elif what < 0.55 and query:
                    params = urllib.parse.parse_qs(query)
                    if "filter" in params:
                        query = encode(rng, {"filter": mutate_filter(rng, params["filter"][0])})
                    else:
                        query = mutate_query(rng, query)
                elif what < 0.65:
                    query = mutate_query(rng, query)
                elif what < 0.75:
                    path = mutate_path(rng, path)
                elif what < 0.83:
                    method = rng.choice(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"])
                elif what < 0.90:
                    ctype = rng.choice(CONTENT_TYPES)
                    if ctype:
                        headers["Content-Type"] = ctype
                    else:
                        headers.pop("Content-Type", None)
                elif what < 0.95:
                    headers["Authorization"] = rng.choice(
                        ["", "Bearer", f"bearer {token}", f"Basic {token}", f"Bearer {token}x",
                         "Bearer sshw_" + "A" * 43, f"Bearer  {token} ", f"Bearer {token[:-1]}"]
                    )
                else:
                    headers[rng.choice(["If-Match", "If-None-Match"])] = rng.choice(
                        ['W/"1"', '"1"', "*", "", '"abc"', 'W/"99999999999999999999"', '"-1"', "W/"]
                    )
        if raw is not None and method in ("GET", "DELETE", "HEAD") and rng.random() < 0.7:
            raw = None
        url = path + ("?" + query if query else "")
        status, res_headers, data = self.send(method, url, raw, headers)
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        wrong = self.check(method, url, headers, raw, status, res_headers, data)
        if wrong:
            self.failures.append({
                "wrong": wrong, "method": method, "url": url, "headers": headers,
                "body": (raw or b"")[:2000].decode("utf-8", "replace"),
                "status": status, "response": data[:2000].decode("utf-8", "replace"),
            })
        if status == 201 and not mutated:
            try:
                created = json.loads(data)["id"]
                (self.users if path.endswith("/Users") else self.groups).append(created)
            except (ValueError, KeyError, TypeError):
                pass
        # A bounded directory: the oldest resources go, so lists stay cheap.
        for pool, kind_path in ((self.users, "Users"), (self.groups, "Groups")):
            if len(pool) > 300:
                old = pool.pop(0)
                self.send("DELETE", f"{self.base}/{kind_path}/{old}", None, {"Authorization": f"Bearer {token}"})


def run(args, index, requests, queue):
    worker = Worker(args, index)
    try:
        for _ in range(requests):
            worker.request()
            if len(worker.failures) >= args.max_failures:
                break
    except Exception as e:  # a bug of the fuzzer: reported, never a hang
        worker.failures.append({"wrong": [f"fuzzer crashed: {e!r}"]})
    queue.put((worker.sent, worker.statuses, worker.failures))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    p.add_argument("--team", default="default")
    p.add_argument("--token", required=True, help="the team's SCIM token")
    p.add_argument("--requests", type=int, default=10000, help="in total")
    p.add_argument("--workers", type=int, default=2, help="processes, one connection each")
    p.add_argument("--mutate", type=float, default=0.75, help="share of requests mutated")
    p.add_argument("--seed", default=str(int(time.time())))
    p.add_argument("--max-failures", type=int, default=50, help="per worker, then it stops")
    p.add_argument("--failures", default="scim-fuzz-failures.jsonl")
    args = p.parse_args()
    started = time.monotonic()
    queue = multiprocessing.Queue()
    share = [args.requests // args.workers + (i < args.requests % args.workers) for i in range(args.workers)]
    procs = [multiprocessing.Process(target=run, args=(args, i, share[i], queue)) for i in range(args.workers)]
    for proc in procs:
        proc.start()
    sent, statuses, failures = 0, {}, []
    for _ in procs:
        s, st, f = queue.get()
        sent += s
        failures += f
        for k, v in st.items():
            statuses[k] = statuses.get(k, 0) + v
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    with open(args.failures, "w") as out:
        for f in failures:
            out.write(json.dumps(f) + "\n")
    by_status = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0])))
    print(f"scim_fuzz: seed {args.seed}: {sent} requests in {elapsed:.1f} s ({sent / elapsed:.0f}/s); "
          f"statuses {by_status}; {len(failures)} failures")
    for f in failures[:10]:
        print(json.dumps(f)[:1500])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
