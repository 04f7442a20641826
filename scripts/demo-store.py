#!/usr/bin/env python3
"""Fills a JamPasir store (created by jampasird, so its schema is the real one) with realistic
sessions: office days from 08:00 WIB, 3 to 15 minutes apart, service times around 85 s, a few
overtime, cancelled and interrupted. Deterministic (seeded).

    scripts/demo-store.py STORE [--sessions N] [--counter ID] [--chain]

--chain appends each session to the store's audit chain as jampasird would (an independent
implementation of the chain's canonical form: `jampasir verify --store` must accept it).

Without --sessions: two weeks of a normal counter (20-45 sessions a day). Used by
scripts/render-report.sh, the real-kernel USB test and the benchmarks."""
import argparse, datetime as dt, random, sqlite3

parser = argparse.ArgumentParser()
parser.add_argument("store")
parser.add_argument("--sessions", type=int)
parser.add_argument("--counter", default="loket-2")
parser.add_argument("--chain", action="store_true")
args = parser.parse_args()

random.seed(7)
db = sqlite3.connect(args.store)
day_start = dt.datetime(2026, 11, 16, 1, 0, tzinfo=dt.timezone.utc)  # 08:00 WIB
fmt = lambda x: x.strftime('%Y-%m-%d %H:%M:%S.000')
rows, day = [], 0
while (args.sessions is None and day < 14) or (args.sessions is not None and len(rows) < args.sessions):
    t = day_start + dt.timedelta(days=day)
    for _ in range(random.randint(20, 45)):
        if args.sessions is not None and len(rows) >= args.sessions:
            break
        t += dt.timedelta(seconds=random.randint(180, 900))
        d = max(20_000, int(random.gauss(85_000, 22_000)))
        outcome = 'in_time' if d <= 120_000 else 'overtime'
        r = random.random()
        if r < 0.05: outcome, d = 'cancelled', random.randint(10_000, 140_000)
        elif r < 0.06: outcome, d = 'interrupted', None
        free = 1 if outcome in ('overtime', 'interrupted') else 0
        end = t + dt.timedelta(milliseconds=d or 0)
        rows.append((args.counter, 'demo', fmt(t), 0, 1, 120000, fmt(end), d, outcome, free))
    day += 1
db.executemany('INSERT INTO session (counter_id, boot_id, started_at, started_monotonic_ns, clock_synchronized,'
               ' limit_ms, ended_at, duration_ms, outcome, free_service) VALUES (?,?,?,?,?,?,?,?,?,?)', rows)
if args.chain:
    # The daemon's audit chain, computed independently (Sources/JamPasirStore/AuditChain.swift):
    # format 3 (every value tagged with its type and UTF-8 length, the ticket last) from
    # migration v6 on, format 2 (no ticket) before it, format 1 before migration v5.
    import hashlib
    columns = ["id", "counter_id", "boot_id", "started_at", "started_monotonic_ns", "clock_synchronized", "limit_ms",
               "ended_at", "duration_ms", "outcome", "free_service"]
    typed = "format" in [c[1] for c in db.execute("PRAGMA table_info(audit)")]
    ticketed = "ticket" in [c[1] for c in db.execute("PRAGMA table_info(session)")]
    format_ = 3 if ticketed else 2 if typed else 1

    def tagged(value):
        if value is None: return "n"
        tag, text = ("i", str(value)) if isinstance(value, int) else ("s", value)
        return f"{tag}{len(text.encode())}:{text}"

    def untyped(value):
        return "null" if value is None else str(value).replace(";", "%3B")

    seq, previous = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone() or (0, "0" * 64)
    chained = db.execute("SELECT coalesce(max(subject_id), 0) FROM audit WHERE kind = 'session'").fetchone()[0]
    entries = []
    selected = columns + (["ticket"] if ticketed else [])
    for row in db.execute(f"SELECT {', '.join(selected)} FROM session WHERE id > ? AND outcome IS NOT NULL ORDER BY id",
                          (chained,)):
        seq += 1
        if typed:
            fields = ";".join(f"{c}={tagged(v)}" for c, v in zip(columns, row)) + ";edges=n"
            if ticketed: fields += f";ticket={tagged(row[-1])}"
            text = "".join(tagged(v) for v in (format_, seq, "session", row[0], fields, previous))
        else:
            fields = ";".join(f"{c}={untyped(v)}" for c, v in zip(columns, row))
            text = f"{seq}|session|{row[0]}|{fields}|{previous}"
        digest = hashlib.sha256(text.encode()).hexdigest()
        entries.append((seq, "session", row[0], fields, previous, digest, format_))
        previous = digest
    if typed:
        db.executemany("INSERT INTO audit (seq, kind, subject_id, fields, previous_hash, hash, format)"
                       " VALUES (?,?,?,?,?,?,?)", entries)
    else:
        db.executemany("INSERT INTO audit (seq, kind, subject_id, fields, previous_hash, hash)"
                       " VALUES (?,?,?,?,?,?)", entries)
db.commit()
print(f"demo store {args.store}: {len(rows)} sessions added{' and chained' if args.chain else ''}")
