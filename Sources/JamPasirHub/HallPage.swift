/// The hall display: a page for the waiting room's TV, readable across the room. It asks the hub
/// for the queue every two seconds; a new call chimes and is spoken (espeak-ng's Indonesian voice,
/// rendered by the hub: no network service). Data reaches the page as text only, never as markup.
enum HallPage {
    static let html = """
        <!doctype html>
        <html lang="id">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Antrean — JamPasir</title>
        <style>
          html, body { margin: 0; height: 100%; background: #10141a; color: #f4f1e8; font-family: "DejaVu Sans", sans-serif; }
          body { display: grid; grid-template-rows: auto 1fr auto auto; }
          header, footer { display: flex; justify-content: space-between; padding: 1.5vh 3vw; font-size: 3.2vh; background: #1b222c; }
          main { display: grid; grid-template-columns: 3fr 2fr; gap: 3vw; padding: 3vh 3vw; }
          #now { text-align: center; align-self: center; }
          #now .label { font-size: 4vh; color: #c9c2b0; }
          #now .ticket { font-size: 22vh; font-weight: bold; letter-spacing: 0.05em; line-height: 1.05; }
          #now .counter { font-size: 9vh; color: #ffd166; }
          h2 { font-size: 3.4vh; color: #c9c2b0; margin: 0 0 1vh; font-weight: normal; }
          ol { list-style: none; margin: 0; padding: 0; font-size: 5vh; }
          ol li { display: flex; justify-content: space-between; padding: 0.6vh 0; border-bottom: 1px solid #2b3440; }
          .level-0 { color: #f4f1e8; } .level-1 { color: #ffd166; } .level-2 { color: #ff9f1c; }
          .level-3 { color: #ff5d5d; } .breach { color: #fff; background: #b00020; padding: 0 1vw; }
          #stale { display: none; color: #ff5d5d; }
          #printer { display: none; padding: 1.5vh 3vw; font-size: 4vh; color: #fff; background: #b00020; }
        </style>
        </head>
        <body>
        <header><span>Antrean paspor · Passport queue</span><span id="clock"></span></header>
        <main>
          <section id="now"><div class="label">Nomor · Number</div><div class="ticket" id="ticket">—</div>
            <div class="counter" id="counter"></div></section>
          <section><h2>Panggilan terakhir · Last calls</h2><ol id="calls"></ol>
            <h2 style="margin-top:3vh">Menunggu lama · Waiting long</h2><ol id="long"></ol></section>
        </main>
        <div id="printer"></div>
        <footer><span id="waiting"></span><span id="longest"></span><span id="stale">hub tidak menjawab · hub not answering</span></footer>
        <script>
        "use strict";
        const el = (id) => document.getElementById(id);
        const minutes = (s) => Math.floor(s / 60) + " mnt";
        const loket = (counter) => "Loket " + counter.replace(/^loket[-_ ]?/i, "");
        let seen = null;            // the calls already announced (ticket@counter@time)
        const waitingToSpeak = [];  // calls not yet announced, oldest first
        let speaking = false;
        let audio = null;           // one AudioContext for the page's life
        let polling = false;
        function level(q, seconds) {
          if (seconds >= q.promise_seconds) return "breach";
          return "level-" + q.warning_seconds.filter((w) => seconds >= w).length;
        }
        function item(left, right, cls) {
          const li = document.createElement("li");
          const a = document.createElement("span"); a.textContent = left;
          const b = document.createElement("span"); b.textContent = right;
          if (cls) li.className = cls;
          li.append(a, b);
          return li;
        }
        function chime() {
          try {
            audio = audio || new AudioContext();
            [660, 880].forEach((f, i) => {
              const o = audio.createOscillator(); const g = audio.createGain();
              o.frequency.value = f; o.connect(g); g.connect(audio.destination);
              const t = audio.currentTime + i * 0.35;
              g.gain.setValueAtTime(0.2, t); g.gain.exponentialRampToValueAtTime(0.001, t + 0.3);
              o.start(t); o.stop(t + 0.3);
            });
          } catch (e) {}
        }
        // Every call is announced, in order, one at a time: two calls within one poll both speak.
        function speakNext() {
          if (speaking || waitingToSpeak.length === 0) return;
          speaking = true;
          const call = waitingToSpeak.shift();
          const done = () => { speaking = false; setTimeout(speakNext, 500); };
          chime();
          setTimeout(() => {
            const voice = new Audio("/v1/queue/announcement.wav?" + new URLSearchParams({ ticket: call.ticket, counter: call.counter }));
            voice.onended = done; voice.onerror = done;
            voice.play().catch(done);
          }, 800);
        }
        function show(q) {
          const call = q.calls[0];
          el("ticket").textContent = call ? call.ticket : "—";
          el("counter").textContent = call ? loket(call.counter) : "";
          el("calls").replaceChildren(...q.calls.slice(1, 7).map((c) => item(c.ticket, loket(c.counter) + " · " + c.at)));
          el("long").replaceChildren(...q.waiting_tickets.filter((t) => t.marks > 0 || t.breached).slice(0, 6)
            .map((t) => item(t.ticket, minutes(t.waited_seconds), level(q, t.waited_seconds))));
          el("waiting").textContent = "Menunggu · Waiting: " + q.waiting + " / " + q.capacity;
          el("longest").textContent = "Terlama · Longest: " + minutes(q.longest_wait_seconds);
          el("longest").className = level(q, q.longest_wait_seconds);
          el("printer").textContent = q.printer ? "Printer tiket · Ticket printer: " + q.printer : "";
          el("printer").style.display = q.printer ? "block" : "none";
          const keys = q.calls.map((c) => c.ticket + "@" + c.counter + "@" + c.at);
          if (seen === null) {
            seen = new Set(keys);  // what was called before the page opened is not announced
          } else {
            q.calls.filter((c, i) => !seen.has(keys[i])).reverse().forEach((c) => waitingToSpeak.push(c));
            keys.forEach((k) => seen.add(k));
            speakNext();
          }
        }
        // One request at a time, each given 3 s: a hub that hangs shows as not answering.
        async function poll() {
          if (polling) return;
          polling = true;
          const abort = new AbortController();
          const timer = setTimeout(() => abort.abort(), 3000);
          try {
            const response = await fetch("/v1/queue", { cache: "no-store", signal: abort.signal });
            if (!response.ok) throw new Error(response.status);
            show(await response.json());
            el("stale").style.display = "none";
          } catch (e) {
            el("stale").style.display = "inline";
          } finally {
            clearTimeout(timer);
            polling = false;
          }
          el("clock").textContent = new Date().toLocaleTimeString("id-ID", { hour: "2-digit", minute: "2-digit" });
        }
        poll();
        setInterval(poll, 2000);
        </script>
        </body>
        </html>

        """
}
