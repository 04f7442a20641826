#!/usr/bin/env python3
"""Crash loop (`make torture`): the real jampasird (simulator backends, a real SQLite store)
runs sessions from a scripted button and is killed with SIGKILL at random instants — often
just after a press, while the store is being written — and at random instants a concurrent
`jampasir export` is killed too. After every kill the daemon is restarted and the store is
checked:

  * PRAGMA integrity_check is ok;
  * every session whose start the daemon acknowledged ("session N started" in its log, written
    after the commit; the start beep comes with it) exists exactly once;
  * every session the daemon reported ended keeps that outcome and duration;
  * after the restart is ready, no session is open: the one cut short became interrupted;
  * the audit chain verifies (`jampasir verify --store`) and holds every finished session;
  * every export folder either verifies or is a hidden `.…partial` staging folder.

    scripts/torture.py [--iterations N] [--seed S]        (TORTURE_LONG=1 make torture: 1000)
"""
import argparse, os, random, re, signal, sqlite3, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("--iterations", type=int, default=int(os.environ.get("TORTURE_ITERATIONS", "40")))
parser.add_argument("--seed", type=int, default=int(time.time()))
parser.add_argument("--bin", default=".build/release")
args = parser.parse_args()
rng = random.Random(args.seed)

work = tempfile.mkdtemp(prefix="jampasir-torture-")
store = os.path.join(work, "state", "s.sqlite")
config = os.path.join(work, "jampasir.toml")
exports = os.path.join(work, "exports")
os.makedirs(exports)
with open(config, "w") as f:
    f.write(f'[counter]\nid = "torture"\n[service]\nlimit_seconds = 1\nresult_hold_seconds = 1\n'
            f'rearm_guard_seconds = 0\n[store]\npath = "{store}"\n')
daemon = [os.path.join(args.bin, "jampasird"), "--simulate", "--config", config]
cli = os.path.join(args.bin, "jampasir")

acknowledged, ended = set(), {}          # session id → (outcome, duration_ms)
counts = dict(kills=0, kills_near_write=0, export_kills=0, exports_completed=0, restarts=0,
              recovered_interrupted=0, checks=0)
started_re = re.compile(r"session (\d+) started")
ended_re = re.compile(r"duration_ms=(\S+) free_service=\S+ outcome=(\S+) .*session (\d+) ended")
failures = []


def fail(message):
    failures.append(message)
    print(f"torture: FAIL {message}", file=sys.stderr)


def read_log(path):
    with open(path, errors="replace") as f:
        for line in f:
            if m := started_re.search(line):
                acknowledged.add(int(m.group(1)))
            if m := ended_re.search(line):
                duration = None if m.group(1) == "nil" else int(m.group(1))
                ended[int(m.group(3))] = (m.group(2), duration)


def start_daemon(log_path):
    log = open(log_path, "w")
    process = subprocess.Popen(daemon, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 20
    while time.time() < deadline:
        with open(log_path, errors="replace") as f:
            if "ready after" in f.read():
                return process
        if process.poll() is not None:
            break
        time.sleep(0.01)
    fail(f"daemon did not become ready (see {log_path})")
    return process


def check(after_restart):
    counts["checks"] += 1
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10)
    if (r := db.execute("PRAGMA integrity_check").fetchone()[0]) != "ok":
        fail(f"integrity_check: {r}")
    rows = {i: (o, d) for i, o, d in db.execute("SELECT id, outcome, duration_ms FROM session")}
    for sid in acknowledged:
        if sid not in rows:
            fail(f"acknowledged session {sid} missing")
    for sid, (outcome, duration) in ended.items():
        if rows.get(sid) != (outcome, duration):
            fail(f"session {sid}: reported {outcome}/{duration}, stored {rows.get(sid)}")
    if after_restart:
        still_open = [i for i, (o, _) in rows.items() if o is None]
        if still_open:
            fail(f"open sessions after restart: {still_open}")
    db.close()
    verify = subprocess.run([cli, "verify", "--store", store], capture_output=True, text=True)
    if verify.returncode != 0:
        fail(f"audit chain: {verify.stdout.strip()} {verify.stderr.strip()}")
    return rows


verified_exports = set()


def check_exports():
    base = os.path.join(exports, "JAMPASIR", "torture")
    if not os.path.isdir(base):
        return
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if name.startswith(".") or name in verified_exports:
            continue  # a staging folder left by a kill: hidden, never mistaken for an export
        verified_exports.add(name)
        result = subprocess.run([cli, "verify", path], capture_output=True, text=True)
        # 2: intact, signed by a key this run was not told to trust (the daemon's own, made at start).
        if result.returncode != 2:
            fail(f"export {name} looks complete but does not verify: {result.stdout.strip()}")


log_path = os.path.join(work, "daemon-0.log")
process = start_daemon(log_path)
# A year of a busy counter already in the store (chained), so that exports take long enough
# to be killed half-way.
subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "demo-store.py"), store,
                "--sessions", "20000", "--counter", "torture", "--chain"], check=True, stdout=subprocess.DEVNULL)
started_at = time.time()
for iteration in range(args.iterations):
    # Drive the button for a while: presses at random gaps (sessions of ~0.1–1.6 s against a
    # 1 s limit: in time and overtime), sometimes a long press ("c").
    run_for = rng.uniform(0.05, 1.5)
    end = time.time() + run_for
    last_press = 0.0
    exporter = None
    while time.time() < end:
        try:
            process.stdin.write(b"c" if rng.random() < 0.1 else b" ")
            process.stdin.flush()
        except BrokenPipeError:
            break
        last_press = time.time()
        time.sleep(rng.uniform(0.0, 1.4))
    if rng.random() < 0.3:
        exporter = subprocess.Popen([cli, "export", "--config", config, "--to", exports],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 0.8))
    # Kill: half the time right after a press, when the start or end is being committed.
    if rng.random() < 0.5:
        try:
            process.stdin.write(b" ")
            process.stdin.flush()
        except BrokenPipeError:
            pass
        time.sleep(rng.uniform(0.0, 0.02))
        counts["kills_near_write"] += 1
    process.send_signal(signal.SIGKILL)
    process.wait()
    counts["kills"] += 1
    if exporter is not None:
        if exporter.poll() is None:
            exporter.send_signal(signal.SIGKILL)
            counts["export_kills"] += 1
        elif exporter.returncode == 0:
            counts["exports_completed"] += 1
        exporter.wait()
    read_log(log_path)
    before = {i for i, (o, _) in check(after_restart=False).items() if o is None}
    log_path = os.path.join(work, f"daemon-{iteration + 1}.log")
    process = start_daemon(log_path)
    counts["restarts"] += 1
    rows = check(after_restart=True)
    counts["recovered_interrupted"] += sum(1 for i in before if rows.get(i, (None,))[0] == "interrupted")
    check_exports()
    if (iteration + 1) % 50 == 0:
        print(f"torture: {iteration + 1}/{args.iterations} kills, {len(acknowledged)} sessions acknowledged",
              file=sys.stderr)

process.stdin.write(b"q")
process.stdin.flush()
process.wait(timeout=20)
read_log(log_path)
rows = check(after_restart=False)
outcomes = {}
for outcome, _ in rows.values():
    outcomes[outcome] = outcomes.get(outcome, 0) + 1
print(f"torture: seed {args.seed}, {time.time() - started_at:.0f} s, store {work}")
print("torture: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
print(f"torture: sessions {len(rows)} ({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}); "
      f"acknowledged {len(acknowledged)}, reported ended {len(ended)}")
print(f"torture: {len(failures)} failures")
sys.exit(1 if failures else 0)
