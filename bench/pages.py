"""Times the managers' pages as a browser signed in through the login page fetches them: the
median and the slowest of five requests each.
Usage: python3 bench/pages.py BASE_URL USERNAME PASSWORD PATH...
"""
import os
import statistics
import sys
import time

os.environ.setdefault("WORK", "/tmp")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402  (the login and the HTTP client of the load benchmark)

base, user, load.PASSWORD = sys.argv[1:4]
cookie = load.page_cookie(base, user)
for path in sys.argv[4:]:
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        status, _, _ = load.http("GET", base + path, headers={"cookie": cookie})
        times.append(time.perf_counter() - t0)
        if status != 200:
            raise SystemExit(f"{path}: {status}")
    print(f"   {path:<44} median {statistics.median(times):6.3f} s  max {max(times):6.3f} s")
