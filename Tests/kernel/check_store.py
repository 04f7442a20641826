#!/usr/bin/env python3
"""Checks what the real-kernel run left behind: the store (read with the host's jampasir CLI)
and the daemon's debug log (edge-to-frame latency, TM1637 frame write time).

usage: check_store.py JAMPASIR STORE DAEMON_LOG FLAVOUR
"""
import json
import re
import sqlite3
import statistics
import subprocess
import sys

cli, store, log_path, flavour = sys.argv[1:5]
sessions = json.loads(subprocess.run(
    [cli, "sessions", "--store", store, "--format", "json"], check=True, capture_output=True, text=True).stdout)
problems = []
outcomes = [s["outcome"] for s in sessions]
durations = [s["duration_ms"] for s in sessions]
if outcomes != ["in_time", "overtime"]:
    problems.append(f"outcomes {outcomes}, expected ['in_time', 'overtime']")
elif not (1400 <= durations[0] <= 2000 and 2400 <= durations[1] <= 4000):
    problems.append(f"durations {durations} ms, expected about 1500 and 2500")
if any(s["limit_ms"] != 2000 or s["counter_id"] != "vm" for s in sessions):
    problems.append("limit or counter id not as configured")

# Edge-to-frame latency: from the kernel timestamp of a release that starts or stops a session
# to the end of the first TM1637 frame written after it.
edge_re = re.compile(r"edge_ns=(\d+) .*button released")
frame_re = re.compile(r"done_ns=(\d+) took_us=(\d+) .*frame written")
latencies, writes, pending = [], [], None
for line in open(log_path, encoding="utf-8", errors="replace"):
    if m := edge_re.search(line):
        pending = int(m.group(1))
    elif m := frame_re.search(line):
        writes.append(int(m.group(2)))
        if pending is not None:
            latencies.append((int(m.group(1)) - pending) / 1e6)
            pending = None
if not latencies or not writes:
    problems.append("no edge or frame timing in the daemon log")

# Durations are press to press, from the kernel's edge timestamps: exactly, rounded up to the ms.
presses = [int(m.group(1)) for m in re.finditer(r"edge_ns=(\d+) .*button pressed", open(log_path, encoding="utf-8", errors="replace").read())]
if len(presses) >= 4:
    expected = [-(-(presses[1] - presses[0]) // 1_000_000), -(-(presses[3] - presses[2]) // 1_000_000)]
    if durations != expected:
        problems.append(f"stored durations {durations} ms differ from the kernel edge timestamps {expected} ms")
else:
    problems.append(f"expected 4 presses in the daemon log, found {len(presses)}")

# The wall clock set two hours ahead during session 1: one chain entry with the step's size, and
# the chain verifies with it.
verify = subprocess.run([cli, "verify", "--store", store], capture_output=True, text=True)
if verify.returncode != 0:
    problems.append(f"jampasir verify --store: exit {verify.returncode}: {verify.stdout}{verify.stderr}")
with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
    entries = [dict(f.split("=", 1) for f in fields.split(";"))
               for (fields,) in db.execute("SELECT fields FROM audit WHERE kind = 'clock-step'")]
    boots = {boot for (boot,) in db.execute("SELECT DISTINCT boot_id FROM session")}
    session_1_start = db.execute("SELECT started_monotonic_ns FROM session ORDER BY id LIMIT 1").fetchone()[0]
steps = [int(e["step_ms"]) for e in entries]
if len(steps) != 1 or not 7_198_000 <= steps[0] <= 7_201_000:
    problems.append(f"clock steps chained: {steps} ms, expected one of about +7,200,000 (date -s drops the fraction)")
# Where the step fell: the sessions' boot, after session 1 started (which it interrupted).
elif entries[0]["boot_id"] not in boots or not int(entries[0]["monotonic_ns"]) > session_1_start:
    problems.append(f"the clock step's boot and instant {entries[0]} do not place it in session 1 of boot {boots}")

print(f"[{flavour}] sessions: {outcomes} {durations} ms; clock steps chained: {steps} ms")
if latencies:
    print(f"[{flavour}] edge-to-frame (kernel timestamp to TM1637 frame written, TCG VM): "
          f"median {statistics.median(latencies):.1f} ms, max {max(latencies):.1f} ms over {len(latencies)} edges")
if writes:
    print(f"[{flavour}] TM1637 frame write (bit delay 50 us): median {statistics.median(writes) / 1000:.2f} ms, "
          f"max {max(writes) / 1000:.2f} ms over {len(writes)} frames")
for p in problems:
    print(f"[{flavour}] not ok - {p}")
print(f"[{flavour}] {'ok' if not problems else 'not ok'} - store and timing checks")
sys.exit(1 if problems else 0)
