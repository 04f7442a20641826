#!/usr/bin/env python3
"""The clients of `make test-hub-load` (scripts/test-hub-load.sh).

  hub-load.py bundles STRANGER_EXPORT TRUSTED_EXPORT STRANGER_OUT BOMB_OUT
      the bundle bodies `jampasir push` would send: the stranger's export as it is, and the
      trusted counter's with its sessions.csv replaced by 8 MiB of newlines (the manifest's
      hash and size made to fit; the signature no longer does);
  hub-load.py printer PATH_FILE
      a slow ESC/POS printer on a pseudo-terminal (its path written to PATH_FILE): it answers
      each status request (DLE EOT n) as an Epson does, "ready", but only after 0.3 s, so a
      ticket takes about 1.2 s;
  hub-load.py run --bin DIR --work DIR --url URL --hub-pid PID --seconds N
      the office at its worst for N seconds beside slowhttptest; prints the figures and exits 1
      unless every call and hall poll was answered within 3 s, every push taken, and the hub's
      peak RSS stayed under 150 MB.
"""
import argparse, glob, hashlib, json, os, re, subprocess, sys, threading, time, tty, urllib.request

DEADLINE = 3.0
RSS_LIMIT_MB = 150


def bundle(folder):
    out = b"JAMPASIR-BUNDLE 1\n"
    for name in ["sessions.csv", "sessions.jsonl", "report.html", "chain.txt", "manifest.json"]:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            data = open(path, "rb").read()
            out += b"%s %d\n" % (name.encode(), len(data)) + data + b"\n"
    return out


def export_folder(root):
    return os.path.dirname(glob.glob(os.path.join(root, "**", "manifest.json"), recursive=True)[0])


def make_bundles(stranger, trusted, stranger_out, bomb_out):
    open(stranger_out, "wb").write(bundle(export_folder(stranger)))
    folder = export_folder(trusted)
    newlines = b"\n" * (8 << 20)
    open(os.path.join(folder, "sessions.csv"), "wb").write(newlines)
    path = os.path.join(folder, "manifest.json")
    manifest = json.load(open(path))
    for entry in manifest["files"]:
        if entry["name"] == "sessions.csv":
            entry["sha256"], entry["size"] = hashlib.sha256(newlines).hexdigest(), len(newlines)
    json.dump(manifest, open(path, "w"), indent=2)
    open(bomb_out, "wb").write(bundle(folder))


def printer(path_file):
    master, slave = os.openpty()
    tty.setraw(slave)
    open(path_file, "w").write(os.ttyname(slave))
    pending = b""
    while True:
        pending += os.read(master, 4096)
        while True:
            index = pending.find(b"\x10\x04")
            if index < 0 or index + 2 >= len(pending):
                break
            pending = pending[index + 3:]
            time.sleep(0.3)
            os.write(master, b"\x12")
        # The ticket's bytes are printed; only the start of a request still coming is kept.
        tail = pending[-2:]
        pending = tail[tail.find(b"\x10"):] if b"\x10" in tail else b""


def post(url, body):
    """POSTs `body`: the answer's status, or what went wrong."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except Exception as error:
        return str(error)


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run(args):
    stop = time.time() + args.seconds
    lock = threading.Lock()
    calls, polls, pushes, hostile, tickets = [], [], [], [], []  # (seconds, ok, what)
    held = [0]

    def record(into, started, ok, what):
        with lock:
            into.append((time.time() - started, ok, what))

    def counter(n):
        config = os.path.join(args.work, "loket-%d.toml" % n)
        next_call = time.time() + n / 8
        while next_call < stop:
            time.sleep(max(0, next_call - time.time()))
            started = time.time()
            done = subprocess.run([os.path.join(args.bin, "jampasir"), "call", "--config", config],
                                  capture_output=True, text=True)
            took = time.time() - started
            record(calls, started, done.returncode == 0 and took <= DEADLINE,
                   (done.stdout + done.stderr).strip()[:160])
            next_call += 1

    def kiosk():
        while time.time() < stop:
            started = time.time()
            status = post(args.url + "/v1/queue/ticket", b"")
            record(tickets, started, status == 200, "ticket: %s" % status)
            time.sleep(max(0, 2.5 - (time.time() - started)))

    def hall():
        while time.time() < stop:
            started = time.time()
            try:
                with urllib.request.urlopen(args.url + "/v1/queue", timeout=DEADLINE) as answer:
                    answer.read()
                record(polls, started, time.time() - started <= DEADLINE, "200")
            except Exception as error:
                record(polls, started, False, str(error))
            time.sleep(max(0, 0.2 - (time.time() - started)))

    def pusher(n):
        config = os.path.join(args.work, "loket-%d.toml" % n)
        while time.time() < stop:
            started = time.time()
            done = subprocess.run([os.path.join(args.bin, "jampasir"), "push", "--force", "--attempts", "6",
                                   "--config", config], capture_output=True, text=True)
            record(pushes, started, done.returncode == 0, (done.stdout + done.stderr).strip()[:160])

    def poster(name):
        body = open(os.path.join(args.work, name), "rb").read()
        while time.time() < stop:
            started = time.time()
            status = post(args.url + "/v1/bundles", body)
            record(hostile, started, status in (422, 503), "%s: %s" % (name, status))
            time.sleep(0.5)

    def connections():
        port = args.url.rsplit(":", 1)[1]
        while time.time() < stop:
            out = subprocess.run(["ss", "-Htn", "state", "established", "( sport = :%s )" % port],
                                 capture_output=True, text=True).stdout
            held[0] = max(held[0], len(out.splitlines()))
            time.sleep(1)

    threads = [threading.Thread(target=counter, args=(n,)) for n in range(1, 9)]
    threads += [threading.Thread(target=target) for target in (hall, kiosk, connections)]
    threads += [threading.Thread(target=pusher, args=(n,)) for n in (1, 2)]
    threads += [threading.Thread(target=poster, args=(name,)) for name in ("stranger.bundle", "bomb.bundle")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    peak = 0
    for line in open("/proc/%d/status" % args.hub_pid):
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) // 1024

    def summary(name, rows, failure):
        late = [row for row in rows if not row[1]]
        times = [row[0] for row in rows]
        print("hub-load: %-14s %4d, %d %s; p50 %.3f s, p99 %.3f s, longest %.3f s"
              % (name, len(rows), len(late), failure, percentile(times, 50), percentile(times, 99), max(times, default=0)))
        for row in late[:5]:
            print("hub-load:   %.2f s: %s" % (row[0], row[2]))
        return len(late)

    in_time = "failed or past %.0f s" % DEADLINE
    failed = summary("calls", calls, in_time) + summary("hall polls", polls, in_time)
    failed += summary("pushes", pushes, "not taken in 6 tries") + summary("tickets", tickets, "not printed")
    # Every call the hub carried out was one a counter was told of in time.
    told = sum(1 for row in calls if row[1] and re.search(r"ticket [A-Z]+-[0-9]+ called", row[2]))
    queue = subprocess.run([os.path.join(args.bin, "jampasir"), "hub", "queue", "--config",
                            os.path.join(args.work, "hub.toml"), "--format", "json"],
                           capture_output=True, text=True, check=True).stdout
    carried = sum(day["called"] for day in json.loads(queue))
    print("hub-load: tickets called    %d by the hub, %d told to a counter in time" % (carried, told))
    failed += carried != told or told == 0
    refused = summary("hostile posts", hostile, "not refused (422 or 503)")
    print("hub-load: the hub's peak RSS %d MB (limit %d); at most %d connections established at once"
          % (peak, RSS_LIMIT_MB, held[0]))
    ok = failed == 0 and refused == 0 and peak < RSS_LIMIT_MB and calls and pushes
    print("hub-load: %s" % ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    if sys.argv[1:2] == ["bundles"]:
        make_bundles(*sys.argv[2:6])
        return 0
    if sys.argv[1:2] == ["printer"]:
        printer(sys.argv[2])
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run"])
    for option in ("--bin", "--work", "--url"):
        parser.add_argument(option, required=True)
    parser.add_argument("--hub-pid", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=60)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
