#!/usr/bin/env python3
"""The officer's everyday requests under load, beside an axum hello-world in the same run.

Called by bench/load.sh (which builds the release binaries). For each database (the demo, and
N generated cases imported with `lots import`; on SQLite, and on PostgreSQL when PG_URL is set)
it starts `lots serve`, signs in as an officer (bearer token and page cookie), drives each request
with wrk at each connection count and prints one table: requests/s, p50, p99, errors, and the
ratio to the hello-world's /healthz at the same connection count, measured just before and just
after that database's requests (the mean of the two; the table shows both).

Environment: LOTS (binary), HELLO (binary), WORK (folder), PG_URL, N (cases, default 100000),
DURATION (wrk seconds, default 10), CONNS (default "1 16 64"), ONLY (comma-separated request
names), DATABASES (comma-separated: sqlite-demo, sqlite-N, pg-demo, pg-N; default all that apply).
"""

import html.parser
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

LOTS = os.environ.get("LOTS", "target/release/lots")
HELLO = os.environ.get("HELLO", "target/release/lots-hello")
WORK = os.environ["WORK"]
PG_URL = os.environ.get("PG_URL")
N = int(os.environ.get("N", "100000"))
DURATION = int(os.environ.get("DURATION", "10"))
CONNS = [int(c) for c in os.environ.get("CONNS", "1 16 64").split()]
ONLY = set(filter(None, os.environ.get("ONLY", "").split(",")))
PASSWORD = "bench-password-lang-1"
PORT = 18181
HELLO_PORT = 18300
SECRET = "bench-secret-bench-secret-bench-secret-00"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def http(method, url, body=None, headers=None, form=None):
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_ready(url, proc, seconds=600):
    for _ in range(seconds * 4):
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the server exited ({proc.returncode})")
        try:
            if http("GET", url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"{url} did not answer")


def token(base, username):
    status, _, body = http("POST", f"{base}/api/v1/auth/token",
                           body={"username": username, "password": PASSWORD})
    if status != 200:
        raise SystemExit(f"login as {username}: {status} {body[:200]!r}")
    return json.loads(body)["access_token"]


class CsrfField(html.parser.HTMLParser):
    csrf = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") == "csrf":
            self.csrf = a.get("value")


def page_cookie(base, username):
    """Signs in through the login page as a browser would; returns the session cookie."""
    _, headers, body = http("GET", f"{base}/logga-in")
    anon = headers["set-cookie"].split(";")[0]
    p = CsrfField()
    p.feed(body.decode())
    status, headers, _ = http("POST", f"{base}/logga-in", headers={"cookie": anon},
                              form={"csrf": p.csrf, "username": username, "password": PASSWORD})
    if status != 303:
        raise SystemExit(f"page login as {username}: {status}")
    return headers["set-cookie"].split(";")[0]


def wrk(url, conns, script=None, headers=()):
    threads = min(2, conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{DURATION}s", "--latency", "--timeout", "10s"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": ms(lat["50"]), "p99": ms(lat["99"]), "errors": errors, "total": total}


def ms(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


POST_LUA = """
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer %s"
wrk.body = '{"org_number": "556036-0793", "company_name": "Exempel AB", "area": "building_permit", "department": "SBF", "title": "Tillbyggnad av butikslokal"}'
"""


def port_free(port):
    import socket
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def lots_server(name, url, demo):
    if not port_free(PORT):
        raise SystemExit(f"port {PORT} is taken: stop what listens there first")
    env = dict(os.environ, LOTS_LOG="warn,lots=info", LOTS_JWT_SECRET=SECRET,
               LOTS_DEMO_PASSWORD=PASSWORD, LOTS_ATTACHMENTS_DIR=f"{WORK}/{name}-files")
    args = [LOTS, "serve", "--no-worker", "--addr", f"127.0.0.1:{PORT}", "--database-url", url]
    if demo:
        args.append("--demo")
    logf = open(f"{WORK}/{name}.log", "w")
    proc = subprocess.Popen(args, env=env, stdout=logf, stderr=subprocess.STDOUT)
    wait_ready(f"http://127.0.0.1:{PORT}/readyz", proc)
    return proc


def officer_for_generated(base):
    """The import creates the generated history's officers inactive, without a department or a
    usable password: the bench admin makes anna an active officer of SBF with a password."""
    admin = token(base, "bench")
    auth = {"authorization": f"Bearer {admin}"}
    _, _, body = http("GET", f"{base}/api/v1/users?limit=500", headers=auth)
    users = json.loads(body)
    users = users.get("items", users) if isinstance(users, dict) else users
    anna = next(u for u in users if u["username"] == "anna")
    status, _, body = http("PATCH", f"{base}/api/v1/users/{anna['id']}", headers=auth,
                           body={"password": PASSWORD, "active": True, "department": "SBF"})
    if status != 200:
        raise SystemExit(f"cannot set anna's password: {status} {body[:200]!r}")


def prepare(name, url, demo):
    if demo:
        return
    data = f"{WORK}/cases-{N}.ndjson"
    if not os.path.exists(data):
        log(f"== generating {N} cases")
        with open(data, "w") as f:
            subprocess.run([sys.executable, "bench/gen_history.py", str(N)], stdout=f, check=True)
    log(f"== importing {N} cases into {name}")
    env = dict(os.environ, LOTS_LOG="error")
    subprocess.run([LOTS, "import", data, "--create-missing", "--database-url", url],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([LOTS, "user", "add", "--username", "bench", "--role", "admin",
                    "--password-stdin", "--database-url", url], input=PASSWORD.encode(),
                   env=env, check=True, stdout=subprocess.DEVNULL)


def requests_for(base, tok, cookie, case_id):
    bearer = f"authorization: Bearer {tok}"
    post = f"{WORK}/post.lua"
    with open(post, "w") as f:
        f.write(POST_LUA % tok)
    return [
        ("GET /healthz", f"{base}/healthz", None, []),
        ("GET /api/v1/cases/{id}", f"{base}/api/v1/cases/{case_id}", None, [bearer]),
        ("GET /api/v1/cases?limit=50&status=in_progress",
         f"{base}/api/v1/cases?limit=50&status=in_progress", None, [bearer]),
        ("page: Mina ärenden", f"{base}/arenden", None, [f"cookie: {cookie}"]),
        ("page: a case", f"{base}/arenden/{case_id}", None, [f"cookie: {cookie}"]),
        ("POST /api/v1/cases", f"{base}/api/v1/cases", post, []),
    ]


def databases():
    chosen = set(filter(None, os.environ.get("DATABASES", "").split(",")))
    dbs = [("sqlite-demo", f"sqlite://{WORK}/demo.db?mode=rwc", True),
           (f"sqlite-{N}", f"sqlite://{WORK}/gen-{N}.db?mode=rwc", False)]
    if PG_URL:
        root = PG_URL.rsplit("/", 1)[0]
        dbs += [("pg-demo", f"{root}/lots_bench_demo", True),
                (f"pg-{N}", f"{root}/lots_bench_gen", False)]
    return [d for d in dbs if not chosen or d[0] in chosen]


def fresh(name, url):
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):].split("?")[0]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        root, db = url.rsplit("/", 1)
        for sql in (f"drop database if exists {db} with (force)", f"create database {db}"):
            subprocess.run(["psql", PG_URL, "-qc", sql], check=True)


def main():
    if not port_free(HELLO_PORT):
        raise SystemExit(f"port {HELLO_PORT} is taken: stop what listens there first")
    # The yardstick is measured before each database's requests and once more after the last
    # ones, and each request's ratio is to the mean of the measurements on either side of its
    # block: on a machine whose speed drifts (a shared host), one measurement at the start was
    # off by half for the last database.
    hello = subprocess.Popen([HELLO, f"127.0.0.1:{HELLO_PORT}"], stdout=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{HELLO_PORT}/healthz", hello)

        def yardstick(when):
            measured = {c: wrk(f"http://127.0.0.1:{HELLO_PORT}/healthz", c) for c in CONNS}
            for c, r in measured.items():
                log(f"   hello-world {when:<40} c={c:<3} {r['rps']:>9.0f}/s")
            return measured

        rows = []
        before = yardstick("at the start")
        for name, url, demo in databases():
            fresh(name, url)
            prepare(name, url, demo)
            measured = []
            proc = lots_server(name, url, demo)
            try:
                base = f"http://127.0.0.1:{PORT}"
                if not demo:
                    officer_for_generated(base)
                tok = token(base, "anna")
                cookie = page_cookie(base, "anna")
                _, _, body = http("GET", f"{base}/api/v1/cases?limit=1&assignee=anna",
                                  headers={"authorization": f"Bearer {tok}"})
                case_id = json.loads(body)["items"][0]["id"]
                for label, url_, script, headers in requests_for(base, tok, cookie, case_id):
                    if ONLY and label not in ONLY:
                        continue
                    for c in CONNS:
                        r = wrk(url_, c, script, headers)
                        measured.append((label, c, r))
                        log(f"   {name:<14} {label:<46} c={c:<3} {r['rps']:>9.0f}/s "
                            f"p50 {r['p50']:7.2f} ms p99 {r['p99']:8.2f} ms errors {r['errors']}")
            finally:
                proc.terminate()
                proc.wait()
            after = yardstick(f"after {name}")
            mean = {c: (before[c]["rps"] + after[c]["rps"]) / 2 for c in CONNS}
            for c in CONNS:
                spread = {"rps": mean[c], "p50": before[c]["p50"], "p99": before[c]["p99"],
                          "errors": before[c]["errors"] + after[c]["errors"],
                          "low": min(before[c]["rps"], after[c]["rps"]),
                          "high": max(before[c]["rps"], after[c]["rps"])}
                rows.append(("hello-world", f"GET /healthz (around {name})", c, spread, 1.0))
            rows += [(name, label, c, r, r["rps"] / mean[c]) for label, c, r in measured]
            before = after
    finally:
        hello.terminate()
    print()
    print("| database | request | conns | req/s | p50 ms | p99 ms | errors | × hello-world |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, label, c, r, ratio in rows:
        rps = f"{r['rps']:.0f}"
        if "low" in r:
            rps += f" ({r['low']:.0f}–{r['high']:.0f})"
        print(f"| {name} | {label} | {c} | {rps} | {r['p50']:.2f} | {r['p99']:.2f} "
              f"| {r['errors']} | {ratio * 100:.1f} % |")


if __name__ == "__main__":
    main()
