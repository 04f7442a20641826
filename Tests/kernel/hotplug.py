#!/usr/bin/env python3
"""Plays the people outside the VM for the real-kernel suite and the virtual counter: follows
the VM's console and, when the guest asks, plugs a USB stick image into QEMU's xHCI controller
or pulls it out, or cuts the power, through the QEMU monitor (HMP over a Unix socket).

    hotplug.py CONSOLE_LOG MONITOR_SOCKET IMAGE_DIR

Guest lines:  === PLUG <id> <image> <serial> [<drive option>…]   → drive_add + device_add usb-storage
                 (an option such as throttling.bps-total=3145728 makes a slow stick)
              === USB-DEVICE <id> usb-kbd|usb-net → device_add (a keyboard, a network adapter)
              === UNPLUG <id>                  → device_del
              === POWER-CUT                    → system_reset (no shutdown: the power is gone)
Stops when the console says KERNEL-SUITE-DONE or COUNTER-JOURNEYS-DONE, or nothing new arrives
for 10 minutes."""
import os, socket, sys, time

console, monitor_path, images = sys.argv[1:4]

def monitor(command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(monitor_path)
        s.settimeout(5)
        s.sendall((command + "\n").encode())
        time.sleep(0.3)
        try:
            reply = s.recv(65536).decode(errors="replace")
        except socket.timeout:
            reply = ""
    print(f"hotplug: {command}", file=sys.stderr)
    return reply

while not os.path.exists(monitor_path):
    time.sleep(0.1)
offset, last_seen, buffer = 0, time.time(), ""
while time.time() - last_seen < 600:
    with open(console, "rb") as f:
        f.seek(offset)
        chunk = f.read()
    if not chunk:
        time.sleep(0.1)
        continue
    offset += len(chunk)
    last_seen = time.time()
    buffer += chunk.decode(errors="replace").replace("\r", "")
    *lines, buffer = buffer.split("\n")
    for line in lines:
        # A line may follow the console's own escape sequences (a boot resets the terminal).
        if "=== " in line:
            line = line[line.index("=== "):]
        words = line.split()
        if words[:2] == ["===", "PLUG"]:
            ident, image, serial = words[2:5]
            path = os.path.join(images, image + ".img")
            options = "".join("," + option for option in words[5:] if option.startswith("throttling."))
            monitor(f"drive_add 0 if=none,id=drive-{ident},file={path},format=raw,file.locking=off{options}")
            monitor(f"device_add usb-storage,bus=xhci.0,drive=drive-{ident},id={ident},serial={serial}")
        elif words[:2] == ["===", "USB-DEVICE"] and words[3] in ("usb-kbd", "usb-net"):
            monitor(f"device_add {words[3]},bus=xhci.0,id={words[2]}")
        elif words[:2] == ["===", "UNPLUG"]:
            monitor(f"device_del {words[2]}")
        elif words[:2] == ["===", "POWER-CUT"]:
            monitor("system_reset")
        elif "KERNEL-SUITE-DONE" in line or "COUNTER-JOURNEYS-DONE" in line:
            sys.exit(0)
