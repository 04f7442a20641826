#!/usr/bin/env python3
"""Independent check of `jampasir report --format json`: recomputes every figure straight from
the SQLite store with Python's own date handling and statistics, and compares.

    check_report.py STORE REPORT.json UTC_OFFSET_HOURS

Exit status 0 when every figure agrees; otherwise prints each difference."""
import datetime as dt, json, math, sqlite3, sys
from collections import defaultdict

store, report_path, offset = sys.argv[1], sys.argv[2], float(sys.argv[3])
report = json.load(open(report_path))
rows = sqlite3.connect(store).execute(
    "SELECT started_at, outcome, duration_ms, limit_ms, free_service FROM session").fetchall()

def local(text):
    return dt.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S") + dt.timedelta(hours=offset)

def nearest_rank(values, p):
    if not values: return None
    values = sorted(values)
    return values[max(0, min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1))]

def figures(key):
    groups = defaultdict(list)
    for row in rows: groups[key(local(row[0]))].append(row)
    out = {}
    for period, items in groups.items():
        count = lambda o: sum(1 for r in items if r[1] == o)
        times = [r[2] for r in items if r[1] in ("in_time", "overtime") and r[2] is not None]
        services = count("in_time") + count("overtime") + count("interrupted")
        out[period] = {
            "sessions": len(items), "in_time": count("in_time"), "overtime": count("overtime"),
            "cancelled": count("cancelled"), "interrupted": count("interrupted"),
            "cancelled_after_limit": sum(1 for r in items if r[1] == "cancelled" and r[2] is not None and r[2] > r[3]),
            "free_services": sum(1 for r in items if r[4] == 1),
            "percent_in_time": round(count("in_time") * 100 / services, 1) if services else None,
            "median_service_ms": nearest_rank(times, 50), "p90_service_ms": nearest_rank(times, 90),
            "max_service_ms": max(times) if times else None,
        }
    return out

problems = 0
for kind, key in (("days", lambda t: t.strftime("%Y-%m-%d")), ("hours", lambda t: t.strftime("%H:00"))):
    expected = figures(key)
    got = {entry["period"]: entry for entry in report[kind]}
    if set(expected) != set(got):
        print(f"{kind}: periods differ: {sorted(set(expected) ^ set(got))}"); problems += 1
    for period, values in expected.items():
        for name, value in values.items():
            if got.get(period, {}).get(name) != value:
                print(f"{kind} {period} {name}: report {got.get(period, {}).get(name)!r}, independent {value!r}")
                problems += 1
print(f"check_report: {len(rows)} sessions, {problems} differences")
sys.exit(1 if problems else 0)
