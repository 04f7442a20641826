#!/bin/sh
# The people's journeys on the virtual counter (Tests/counter/run.sh). Runs as a unit of its
# own after boot, on Debian 13 arm64 with systemd as PID 1, and does only what the person
# would: apt, systemctl, journalctl, the jampasir command, presses on the (simulated) button.
# TAP lines on the serial console; the step numbering goes on across the power cut.
set -u
run=/root/run
state=/var/lib/journeys
mkdir -p $state
n=$(cat $state/n 2>/dev/null || echo 0)
phase=$(cat $state/phase 2>/dev/null || echo install)
store=/var/lib/jampasir/jampasir.sqlite

check() { # description, command...: a check that took 5 s or more says how long (the budget)
    desc=$1; shift
    n=$((n + 1)); echo $n > $state/n
    began=$(date +%s)
    if "$@" > $state/last.out 2>&1; then took=$(($(date +%s) - began))
        if [ $took -ge 5 ]; then echo "ok $n - $desc ($took s)"; else echo "ok $n - $desc"; fi
    else
        echo "not ok $n - $desc"; sed 's/^/#   /' $state/last.out | tail -n 15
    fi
}
wait_for() { # seconds, command...: polls every 0.2 s until the deadline, then shows the last try
    deadline=$(($(date +%s) + $1)); shift
    until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge $deadline ] && { "$@"; return 1; }; sleep 0.2; done
}
active() { [ "$(systemctl is-active jampasird)" = active ]; }
main_pid() { systemctl show -p MainPID --value jampasird; }
note() { echo "# $*"; }
usb_interface() { # class: prints the first USB interface of that class, fails if there is none
    for i in /sys/bus/usb/devices/*:*; do
        [ "$(cat $i/bInterfaceClass 2>/dev/null)" = "$1" ] && { basename $i; return 0; }
    done
    return 1
}
refused_interface() { # class: every interface of that class is unauthorised and has no driver
    found=1
    for i in /sys/bus/usb/devices/*:*; do
        [ "$(cat $i/bInterfaceClass 2>/dev/null)" = "$1" ] || continue
        found=0
        [ "$(cat $i/authorized)" = 0 ] && [ ! -e $i/driver ] || { echo "$i: authorized $(cat $i/authorized), driver $(readlink $i/driver)"; return 1; }
    done
    return $found
}

# --- the simulated wiring: gpio-sim lines as the Hardware/ wiring puts them ------------------
sim=/sys/kernel/config/gpio-sim/counter
wire() {
    modprobe gpio-sim
    mkdir -p $sim/bank0
    echo 16 > $sim/bank0/num_lines
    echo jampasir-sim > $sim/bank0/label
    echo 1 > $sim/live
    chip=$(cat $sim/bank0/chip_name); dev=$(cat $sim/dev_name)
    release
    pull 8 pull-up      # the call button (journey 9), released
    pull 9 pull-up      # the kiosk's button (journey 10), released
    pull 2 pull-down    # the TM1637 answers: DIO reads low at the ACK clock
}
line() { echo /sys/devices/platform/$(cat $sim/dev_name)/$(cat $sim/bank0/chip_name)/sim_gpio$1; }
pull() { echo "$2" > "$(line $1)/pull"; }
value() { cat "$(line $1)/value"; }
is() { [ "$(value $1)" = "$2" ]; }
press() { pull 0 pull-down; }    # button to ground, active low
release() { pull 0 pull-up; }
tap() { press; sleep "${1:-0.2}"; release; }
configure() { # button line
    cat > /etc/jampasir/jampasir.toml <<TOML
[counter]
id = "loket-3"
[service]
limit_seconds = 3
result_hold_seconds = 1
[button]
chip = "jampasir-sim"
line = $1
[display]
kind = "tm1637"
chip = "jampasir-sim"
clk_line = 1
dio_line = 2
[buzzer]
chip = "jampasir-sim"
line = 3
[lights]
chip = "jampasir-sim"
green_line = 4
amber_line = 5
red_line = 6
TOML
}
# The store through the front door (`jampasir sessions`, CSV: 5 duration_ms, 7 outcome,
# 8 free_service); sqlite3 only read-only, and only while the daemon holds the store open.
sessions() { jampasir sessions --format csv --store $store | tail -n +2; }
count() { sessions | wc -l; }
last() { sessions | tail -n 1 | cut -d, -f"$1"; }
last_is() { [ "$(last 7)" = "$1" ]; }
status_is() { [ "$(systemctl show -p StatusText --value jampasird)" = "$1" ]; }
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
# Warnings a technician should see; the clock one is expected here (no network in the VM).
no_warnings_since() {
    journalctl -u jampasird -p warning -q --no-pager --since "@$1" | grep -v 'not synchronised' | tee /dev/stderr | grep -q . && return 1
    return 0
}
cut_once() { # mark: a shell line that asks the host for the power cut, the first time only
    echo "[ -e $state/$1 ] || { touch $state/$1; sync; echo '=== POWER-CUT' > /dev/ttyAMA0; sleep 600; }"
}
open_session() { sessions | awk -F, '$7 == "open" { print $1 }'; }
has_open_session() { [ -n "$(open_session)" ]; }
outcome_of() { sessions | awk -F, -v id="$1" '$1 == id { print $7 }'; }
cut_session_interrupted() { # id
    [ "$(outcome_of "$1")" = interrupted ] || { echo "session $1 is not interrupted:"; sessions | tail -n 3; return 1; }
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# A session timed between two presses whose kernel edges fall inside the brackets the script
# reads around them (the pull write takes 1-11 ms under TCG): the stored duration must lie
# between the brackets' inner and outer distances.
timed_session() { # seconds between the presses
    a=$(now_ms); press; b=$(now_ms); sleep 0.2; release
    sleep "$1"
    c=$(now_ms); press; d=$(now_ms); sleep 0.2; release
    shortest=$((c - b)); longest=$((d - a))
}

echo "# journeys: phase $phase, up $(cut -d' ' -f1 /proc/uptime) s, $(uname -m), $(. /etc/os-release; echo "$PRETTY_NAME"), systemd $(systemctl --version | head -n1 | cut -d' ' -f2)"
case $phase in
install)
    wire
    # 1. The technician.
    check "technician: apt install ./jampasir_…_arm64.deb (offline, dependencies from the image)" \
        apt-get install -y -q "$run/jampasir.deb"
    check "the service comes up under systemd (Type=notify: active only after READY=1)" wait_for 120 active
    check "the mount helper's socket listens" systemctl is-active jampasir-mountd.socket
    check "udev accepts the package's rules (udevadm verify)" udevadm verify --resolve-names=never \
        /usr/lib/udev/rules.d/60-jampasir.rules /usr/lib/udev/rules.d/70-jampasir-usb-policy.rules
    check "the USB policy's boot unit is enabled" systemctl is-enabled jampasir-usb-policy.service
    check "the USB policy is on: no interface authorised by default on any bus" \
        sh -c '[ "$(cat /sys/bus/usb/devices/usb*/interface_authorized_default | sort -u)" = 0 ]'
    check "the daemon runs as the unprivileged user jampasir" sh -c '[ "$(ps -o user= -p $(systemctl show -p MainPID --value jampasird))" = jampasir ]'
    configure 99
    t0=$(date +%s); sleep 1
    systemctl restart jampasird
    check "a wrong line (button.line = 99): the service stays up, retrying" sh -c 'sleep 5; [ "$(systemctl is-active jampasird)" = active ]'
    check "  … journalctl -p warning shows the clear error naming the key" sh -c "journalctl -u jampasird -p warning -q --no-pager --since @$t0 | grep -i 'button' | grep -q 'button.line'"
    check "  … and systemctl status says why" sh -c "systemctl status jampasird --no-pager -n 20 | grep -q 'button.line'"
    configure 0
    t0=$(date +%s); sleep 1
    systemctl restart jampasird
    check "fixed configuration: the service is back" wait_for 60 active
    check "  … the button line is requested by label" wait_for 30 sh -c "journalctl -u jampasird -q --no-pager --since @$t0 | grep -q 'button on jampasir-sim line 0'"
    # The VM has no network, so the wall clock is not NTP-synchronised: doctor says so (and
    # what to do); everything else must be in order.
    jampasir doctor --no-beep > $state/doctor.out 2>&1
    check "jampasir doctor: wiring, store, service and display in order (gpio-sim chip by label)" \
        sh -c "grep -q 'button.line: jampasir-sim line 0' $state/doctor.out && ! grep FIX $state/doctor.out | grep -v 'wall clock not synchronised'"
    # This VM has no network time and QEMU's RTC (pl031): doctor says the time comes from it.
    check "  … and it says where the clock's time comes from (the RTC), or what to do" \
        grep -q 'ok    wall clock from the RTC, not synchronised by NTP: RTC rtc0 (rtc-pl031\|FIX   wall clock not synchronised' $state/doctor.out
    check "journalctl -u jampasird -p warning shows nothing unexpected since the fix" no_warnings_since "$t0"

    # 2. The officer: in time, overtime (free), cancel, against a 3 s limit.
    sleep 1
    check "idle: green light on, red off" sh -c "[ $(value 4) = 1 ] && [ $(value 6) = 0 ]"
    timed_session 1.3
    check "in time: recorded in_time" wait_for 10 last_is in_time
    d=$(last 5)
    check "  … its duration is the kernel's edge to edge ($d ms, presses $shortest-$longest ms apart)" \
        between "${d:-0}" "$shortest" "$longest"
    sleep 2
    tap
    check "overtime: the long tone sounds on the buzzer line" wait_for 6 is 3 1
    check "overtime: the red light is on" wait_for 3 is 6 1
    tap
    check "overtime: recorded overtime" wait_for 10 last_is overtime
    check "  … and the passport is free" sh -c "jampasir sessions --format csv --store $store | tail -n 1 | cut -d, -f8 | grep -qE '^(true|1)$'"
    sleep 2
    tap; sleep 0.5; tap 2.6
    check "a long press cancels: recorded cancelled" wait_for 10 last_is cancelled
    check "the display was driven (TM1637 acknowledged, no display warning)" sh -c "! journalctl -u jampasird -q --no-pager --since @$t0 | grep -q 'did not acknowledge'"
    check "jampasir sessions lists the three" sh -c "[ \$(jampasir sessions --format csv --store $store | tail -n +2 | wc -l) = 3 ]"
    prom=/var/lib/prometheus/node-exporter/jampasir.prom
    check "the office: node-exporter's textfile directory has the package's link to the metrics" test -L $prom
    check "  … on tmpfs, never the SD card" sh -c "[ \$(findmnt -n -o FSTYPE --target /run/jampasir) = tmpfs ]"
    check "  … another unprivileged user reads them: 2 handed over, 1 cancelled, 1 free" sh -c \
        "setpriv --reuid=nobody --regid=nogroup --clear-groups cat $prom > $state/metrics.prom && grep -qx 'jampasir_session_duration_seconds_count 2' $state/metrics.prom && grep -qx 'jampasir_sessions_total{outcome=\"cancelled\"} 1' $state/metrics.prom && grep -qx 'jampasir_free_passports_total 1' $state/metrics.prom"

    # 3. The supervisor: the stick's key (written on the supervisor's computer with
    # `jampasir export-key new --to`) added to the configuration, then the stick plugged in.
    echo "[export]" >> /etc/jampasir/jampasir.toml
    cat $run/authorized.toml >> /etc/jampasir/jampasir.toml
    t1=$(date +%s); sleep 1
    systemctl restart jampasird
    check "supervisor: the stick's fingerprint in the configuration, service restarted" wait_for 60 active
    journalctl -u jampasird -q --no-pager --since "@$t1" | grep -o 'device key .*' | sed 's/^/# /'
    echo "=== PLUG auth auth JP0001"
    check "  … the authorised stick receives the export: safe to remove" wait_for 180 sh -c "journalctl -u jampasird -q --no-pager --since @$t1 | grep -q 'safe to remove'"
    check "  … mounted by the socket-activated helper under its own unit" sh -c "journalctl -u jampasir-mountd -q --no-pager --since @$t1 | grep -q ."
    check "  … the helper's mount reached the daemon's namespace (no export failure)" sh -c "! journalctl -u jampasird -q --no-pager --since @$t1 | grep -q 'export failed'"
    check "  … unmounted again" sh -c "! grep -q /run/jampasir-media /proc/mounts"
    echo "=== UNPLUG auth"
    t2=$(date +%s); sleep 1
    echo "=== PLUG foreign foreign JP0002"
    check "a foreign stick is refused" wait_for 120 sh -c "journalctl -u jampasird -q --no-pager --since @$t2 | grep -q 'USB: refused'"
    sleep 2
    echo "=== UNPLUG foreign"

    # 8. The office over the LAN: this machine is also the hub (jampasir-hub.service) and trusts
    # this counter's key; the technician sets push.hub and starts the push (the timer's unit).
    t8=$(date +%s); sleep 1
    public=$(journalctl -u jampasird -q --no-pager | grep -o 'public key [A-Za-z0-9+/=]*' | tail -n 1 | cut -d' ' -f3)
    printf 'trusted_keys = ["%s"]\n[push]\nhub = "127.0.0.1:8790"\n[hub]\nlisten = "127.0.0.1:8790"\n' "$public" \
        >> /etc/jampasir/jampasir.toml
    check "the office hub: jampasir-hub.service enabled and listening" sh -c \
        "systemctl enable --now jampasir-hub.service && for i in \$(seq 150); do journalctl -u jampasir-hub -q --no-pager --since @$t8 | grep -q 'listening on 127.0.0.1:8790' && exit 0; sleep 0.2; done; exit 1"
    check "  … the counter's push (jampasir-push.service) sends its sessions" systemctl start jampasir-push.service
    check "  … the hub imported them" sh -c "journalctl -u jampasir-hub -q --no-pager --since @$t8 | grep -q '127.0.0.1: 200 imported: .*: 3 new sessions, 0 known'"
    check "  … a second push sends nothing" sh -c "systemctl start jampasir-push.service && journalctl -u jampasir-push -q --no-pager --since @$t8 | grep -q 'nothing new since the last push'"
    check "  … the timer is scheduled" sh -c "systemctl enable --now jampasir-push.timer && systemctl list-timers jampasir-push.timer --no-pager | grep -q jampasir-push.service"
    check "  … the timing daemon reaches the office's own network only" sh -c "systemctl show -p IPAddressDeny --value jampasird | grep -q '0.0.0.0/0' && systemctl show -p IPAddressAllow --value jampasird | grep -q '192.168.0.0/16'"
    journalctl -u jampasir-push -u jampasir-hub -q --no-pager --since "@$t8" | tail -n 6 | sed 's/^/# /'

    # 9. The call button ("Panggil") on its own line, wired as Hardware/ says: the daemon, under
    # its unit, asks the hub over the network for the next ticket; nobody waits here (no
    # printer), so the display says nonE and the hub logs the call.
    t9=$(date +%s); sleep 1
    sed -i 's/^line = 0$/line = 0\ncall_line = 8/' /etc/jampasir/jampasir.toml
    printf '[queue]\ntoken = "journeys-0123456789abcdef"\n' >> /etc/jampasir/jampasir.toml   # retired: a notice, not an error
    systemctl restart jampasir-hub jampasird
    check "call button: the service is back with button.call_line = 8" wait_for 60 active
    check "  … the retired queue.token is a notice in the journal, not an error" sh -c "journalctl -u jampasird -q --no-pager --since @$t9 | grep -q 'queue.token is no longer used'"
    check "  … the countdown runs at real-time priority under its unit" wait_for 30 sh -c "journalctl -u jampasird -q --no-pager --since @$t9 | grep -q 'countdown loop at real-time priority 10'"
    check "  … jampasir doctor: the hub takes this counter's calls" sh -c "jampasir doctor --no-beep | grep -q \"ok    call button (button.call_line): hub 127.0.0.1:8790 takes this counter's calls\""
    pull 8 pull-down; sleep 0.2; pull 8 pull-up
    check "  … a press of the call line reaches the hub: nobody waiting" wait_for 30 sh -c "journalctl -u jampasird -q --no-pager --since @$t9 | grep -q 'call button: nobody waiting'"
    check "  … and the hub logged the call from loket-3" sh -c "journalctl -u jampasir-hub -q --no-pager --since @$t9 | grep -q 'loket-3: nobody waiting'"

    # 10. The ticket kiosk's button, wired to the hub (button.kiosk_line), read by
    # jampasir-hub.service under its own unit. This machine has no ticket printer: the press
    # reaches the kiosk, which prints nothing, says why, and the hall display shows it.
    t10=$(date +%s); sleep 1
    sed -i 's/^call_line = 8$/call_line = 8\nkiosk_line = 9/' /etc/jampasir/jampasir.toml
    printf 'printer = "/dev/usb/lp0"\n' >> /etc/jampasir/jampasir.toml   # [queue] is the last table
    systemctl restart jampasir-hub
    check "kiosk button: the hub reads button.kiosk_line = 9 under its unit" wait_for 30 sh -c "journalctl -u jampasir-hub -q --no-pager --since @$t10 | grep -q \"the kiosk's button is 9 on\""
    sleep 1
    pull 9 pull-down; sleep 0.3; pull 9 pull-up
    check "  … a press reaches the kiosk: no printer here, so no ticket, and the journal says why" wait_for 30 sh -c "journalctl -u jampasir-hub -q --no-pager --since @$t10 | grep -q 'kiosk button: no ticket: printer tidak menjawab'"
    check "  … and the hall display shows the printer's trouble" bash -c "exec 3<>/dev/tcp/127.0.0.1/8790 && printf 'GET /v1/queue HTTP/1.1\\r\\n\\r\\n' >&3 && timeout 10 cat <&3 | grep -q '\"printer\":\"printer tidak menjawab'"
    journalctl -u jampasir-hub -q --no-pager --since "@$t10" | tail -n 4 | sed 's/^/# /'

    # 7. Untrusted USB: the sticks above went through the USB policy; a keyboard and a network
    # adapter from the waiting room are enumerated but get no driver, and the journal says so.
    t7=$(date +%s); sleep 1
    inputs=$(ls /sys/class/input | wc -l) nets=$(ls /sys/class/net | wc -l)
    echo "=== USB-DEVICE kbd usb-kbd"
    check "untrusted USB: a keyboard plugged in is seen (class 03 interface)" wait_for 60 usb_interface 03
    check "  … but not authorised and bound to no driver" refused_interface 03
    check "  … so no input device appeared" sh -c "[ \$(ls /sys/class/input | wc -l) = $inputs ]"
    check "  … and the journal names it (tag jampasir-usb)" wait_for 10 sh -c "journalctl -t jampasir-usb -q --no-pager --since @$t7 | grep -q 'class 03) refused'"
    echo "=== USB-DEVICE net usb-net"
    check "a network adapter plugged in is seen (class 02 interface)" wait_for 60 usb_interface 02
    check "  … but not authorised and bound to no driver" refused_interface 02
    check "  … so no network interface appeared" sh -c "[ \$(ls /sys/class/net | wc -l) = $nets ]"
    # The escape hatch for a technician (Hardware/README.md, "USB ports"); it also shows the checks above
    # would see a keyboard that got its driver.
    kbd=$(usb_interface 03)
    echo 1 > /sys/bus/usb/devices/$kbd/authorized
    echo "$kbd" > /sys/bus/usb/drivers_probe
    check "the technician can authorise one on purpose: the keyboard gets usbhid" wait_for 20 sh -c "[ \$(ls /sys/class/input | wc -l) -gt $inputs ]"
    echo "=== UNPLUG kbd"
    echo "=== UNPLUG net"

    # 5. A hung daemon: the watchdog has systemd restart it.
    pid=$(main_pid)
    kill -STOP "$pid"
    check "hang (SIGSTOP): systemd restarts it within WatchdogSec" wait_for 60 sh -c "[ \"\$(systemctl show -p MainPID --value jampasird)\" != $pid ] && [ \"\$(systemctl is-active jampasird)\" = active ]"
    check "  … and the journal says it was the watchdog" sh -c "journalctl -u jampasird -q --no-pager | grep -qi 'watchdog timeout'"
    check "  … its metrics are back, counted from the store" wait_for 30 grep -qx 'jampasir_session_duration_seconds_count 2' $prom

    # 6. Upgrade over the running package: store, configuration and device key kept.
    key=$(sha256sum /var/lib/jampasir/device.key | cut -d' ' -f1)
    config=$(sha256sum /etc/jampasir/jampasir.toml | cut -d' ' -f1)
    before=$(count)
    check "upgrade: apt install of a newer build over the running one" apt-get install -y -q "$run/jampasir-upgrade.deb"
    check "  … the newer version is installed" sh -c "dpkg-query -W -f='\${Version}' jampasir | grep -q upgrade1"
    check "  … the service is running again" wait_for 120 active
    check "  … device key kept" sh -c "[ \"\$(sha256sum /var/lib/jampasir/device.key | cut -d' ' -f1)\" = $key ]"
    check "  … configuration kept" sh -c "[ \"\$(sha256sum /etc/jampasir/jampasir.toml | cut -d' ' -f1)\" = $config ]"
    check "  … store kept ($before sessions)" sh -c "[ \$(jampasir sessions --format csv --store $store | tail -n +2 | wc -l) = $before ]"
    sleep 2; tap; sleep 1; tap
    check "  … sessions continue after the upgrade" wait_for 10 sh -c "[ \$(jampasir sessions --format csv --store $store | tail -n +2 | wc -l) = $((before + 1)) ]"

    # 6b. The supervisor's update stick (authorised, carrying the next build signed with the
    # office's update key, given to the counter once), plugged in during a session. The power
    # is cut just after the install: as the trial of the new build begins (a drop-in asks the
    # host for the cut then, once), while jampasird restarts into it.
    install -m 0644 $run/update-key.gpg /etc/jampasir/update-key.gpg
    mkdir -p /etc/systemd/system/jampasir-update-trial.service.d
    printf '[Service]\nExecStartPre=/bin/sh -c "%s"\n' "$(cut_once cut-trial)" > /etc/systemd/system/jampasir-update-trial.service.d/cut.conf
    systemctl daemon-reload
    echo justafter > $state/phase
    sync $state/n $state/phase $state
    before=$(count)
    t6=$(date +%s); sleep 1
    tap
    check "update stick plugged in during a session" wait_for 10 status_is "session running"
    echo "=== PLUG update update JP0003"
    check "  … exported, its update waits for the session" wait_for 300 sh -c "journalctl -u jampasird -q --no-pager --since @$t6 | grep -q 'installed once no session runs'"
    check "  … which is still running" status_is "session running"
    tap
    check "  … the session ends as timed (overtime, not interrupted)" wait_for 10 sh -c "[ \$(jampasir sessions --format csv --store $store | tail -n +2 | wc -l) = $((before + 1)) ] && [ \"\$(jampasir sessions --format csv --store $store | tail -n 1 | cut -d, -f7)\" = overtime ]"
    sync $state/n $state
    sleep 600
    check "the power cut as the update's trial began came" sh -c "journalctl -u jampasird -u 'jampasir-update*' -q --no-pager | tail -n 20; false"
    echo "COUNTER-JOURNEYS-DONE"
    systemctl poweroff
    ;;
justafter)
    wire
    check "update cut off by the power just after it installed: the counter is back" wait_for 180 active
    check "  … on the new build, dpkg --audit clean, nothing to recover, the update kept on the counter, its receipt there" sh -c "dpkg-query -W -f='\${Version}' jampasir | grep -q upgrade2 && [ -z \"\$(dpkg --audit)\" ] && [ ! -e /var/lib/jampasir-update/installing ] && ls /var/lib/jampasir-update/installed | grep -q upgrade2 && grep -qx 'result: installed' /var/lib/jampasir-update/receipts/latest && grep -q '^to: .*upgrade2' /var/lib/jampasir-update/receipts/latest"
    check "  … the update is in the chain once; the store is intact and jampasir verify --store accepts the chain" wait_for 60 sh -c "[ \"\$(sqlite3 -readonly $store \"SELECT count(*) FROM audit WHERE kind = 'update' AND fields LIKE '%upgrade2%'\")\" = 1 ] && [ \"\$(sqlite3 -readonly $store 'PRAGMA integrity_check')\" = ok ] && jampasir verify --store $store"
    check "  … its trial, cut off as it began, taken up at boot: jampasird reported ready on the new build" wait_for 120 sh -c "journalctl -b -u jampasir-update-trial -q --no-pager | grep -q 'jampasird .*upgrade2 reported ready' && [ ! -e /var/lib/jampasir-update/trial ]"
    check "  … the new version exports to the stick, and finds its update installed" wait_for 300 sh -c "journalctl -b -u jampasird -q --no-pager | grep -q 'upgrade2 is already installed'"
    check "  … the stick is unmounted: safe to remove" wait_for 60 sh -c "! grep -q /run/jampasir-media /proc/mounts"
    echo "=== UNPLUG update"

    # 6b'. The next build on a stick signed with another office's update key: Debian 13's apt
    # (sqv, Signed-By the counter's key alone) refuses it; exported all the same, nothing installed.
    t=$(date +%s); sleep 1
    echo "=== PLUG other other JP0006"
    check "a stick whose update another key signed: refused (UPd3), nothing installed" wait_for 300 sh -c "journalctl -u jampasird -q --no-pager --since @$t | grep -q 'exported, but the update was refused (UPd3): the stick.s update is not signed by this counter.s update key' && dpkg-query -W -f='\${Version}' jampasir | grep -q upgrade2 && [ -z \"\$(dpkg --audit)\" ]"
    check "  … the stick is unmounted: safe to remove" wait_for 60 sh -c "! grep -q /run/jampasir-media /proc/mounts"
    echo "=== UNPLUG other"

    # 6b''. A stick pulled out while the counter copies its update (an uncompressed build on a
    # stick slowed to 3 MB/s: the copy takes about 25 s): refused, nothing installed or kept.
    t=$(date +%s); sleep 1
    echo "=== PLUG pulled pulled JP0007 throttling.bps-total=3145728"
    check "a stick pulled out while its update is copied onto the counter" wait_for 300 sh -c "journalctl -u jampasird -q --no-pager --since @$t | grep -q 'update: copying jampasir_.* from the stick'"
    echo "=== UNPLUG pulled"
    check "  … refused (UPd2), said as such; nothing installed, no copy kept" wait_for 120 sh -c "journalctl -u jampasird -q --no-pager --since @$t | grep -q 'update was refused (UPd2): cannot read .* (was the stick pulled out?)' && dpkg-query -W -f='\${Version}' jampasir | grep -qx '.*+upgrade2' && [ -z \"\$(dpkg --audit)\" ] && [ ! -e /var/lib/jampasir-update/incoming ] && [ ! -e /var/lib/jampasir-update/installing ]"

    # 6c. The build after it cannot start (its daemon exits at once). Its stick is plugged in
    # while the counter's clock is two years behind (a kit back from the villages, no RTC): it
    # installs all the same (the signature counts, not the Release file's date); the new daemon
    # never reports ready, and the counter goes back to the version it ran, by itself.
    printf '[update]\nstart_timeout_seconds = 30\n' >> /etc/jampasir/jampasir.toml
    real=$(date +%s) up=$(cut -d. -f1 /proc/uptime)
    date -s "@$((real - 730 * 86400))" >/dev/null
    t6c=$(date +%s); sleep 1
    check "rollback: the clock is set two years behind" sh -c "[ \$(date +%s) -lt $((real - 700 * 86400)) ]"
    echo "=== PLUG broken broken JP0004"
    check "  … a stick with a build that cannot start: installed all the same (the clock is not checked)" wait_for 600 sh -c "journalctl -u jampasird -q --no-pager --since @$t6c | grep -q 'update: jampasir .*upgrade2 → .*upgrade3 installed from the stick'"
    check "  … it never reports ready; after update.start_timeout_seconds the previous build is back, by itself" wait_for 300 sh -c "journalctl -u jampasir-update-trial -q --no-pager --since @$t6c | grep -q 'rolled back to jampasir .*upgrade2: jampasird reported ready'"
    check "  … running, dpkg --audit clean, the receipt says why" sh -c "dpkg-query -W -f='\${Version}' jampasir | grep -q upgrade2 && [ \"\$(systemctl is-active jampasird)\" = active ] && [ -z \"\$(dpkg --audit)\" ] && grep -qs '^result: rolled back: jampasir .*upgrade3 did not report ready within 30 s' /var/lib/jampasir-update/receipts/*"
    check "  … the rollback is chained; jampasir verify --store accepts the chain" wait_for 60 sh -c "journalctl -u jampasird -q --no-pager --since @$t6c | grep -q 'update rolled back .*upgrade3 → .*upgrade2' && jampasir verify --store $store"
    check "  … the stick still plugged in: exported, its build refused (UPd9), safe to remove" wait_for 300 sh -c "journalctl -u jampasird -q --no-pager --since @$t6c | grep -q 'the update was refused (UPd9): jampasir .*upgrade3 was rolled back on this counter'"
    journalctl -u jampasir-update-trial -q --no-pager --since "@$t6c" | tail -n 4 | sed 's/^/# /'
    echo "=== UNPLUG broken"
    date -s "@$((real + $(cut -d. -f1 /proc/uptime) - up))" >/dev/null

    # 6d. The next update's install is cut off by the power as dpkg unpacks it (the test build's
    # preinst asks the host for the cut); the recovery unit finishes it at the next boot (a cut
    # during that recovery, and the rest of --recover's cases, are make test-deb's).
    echo updatecut > $state/phase
    sync $state/n $state/phase $state
    echo "=== PLUG cut cut JP0005"
    sleep 600
    check "the power cut during the update's install came" sh -c "journalctl -u jampasird -u 'jampasir-update@*' -q --no-pager | tail -n 20; false"
    echo "COUNTER-JOURNEYS-DONE"
    systemctl poweroff
    ;;
updatecut)
    wire
    check "update cut off by the power as dpkg unpacked it: the counter is back" wait_for 180 active
    check "  … the recovery unit finished configuring it this boot" sh -c "journalctl -b -u jampasir-update-recover -q --no-pager | grep -q 'dpkg --configure jampasir' && systemctl show -p Result --value jampasir-update-recover | grep -qx success"
    check "  … the new build runs, dpkg --audit is clean, the mark is gone" sh -c "dpkg-query -W -f='\${Version}' jampasir | grep -q upgrade4 && [ -z \"\$(dpkg --audit)\" ] && [ ! -e /var/lib/jampasir-update/installing ]"
    check "  … the update is kept and in the receipts; the store is intact and its chain verifies" wait_for 60 sh -c "ls /var/lib/jampasir-update/installed | grep -q upgrade4 && grep -q '^to: .*upgrade4' /var/lib/jampasir-update/receipts/latest && journalctl -b -u jampasird -q --no-pager | grep -q 'upgrade4 (from a stick, .*) recorded in the audit chain' && [ \"\$(sqlite3 -readonly $store 'PRAGMA integrity_check')\" = ok ] && jampasir verify --store $store"
    check "  … the update finished at boot is on trial like any other: jampasird reported ready on it" wait_for 120 sh -c "journalctl -b -u jampasir-update-trial -q --no-pager | grep -q 'jampasird .*upgrade4 reported ready' && [ ! -e /var/lib/jampasir-update/trial ]"
    check "  … the stick, still plugged in, is exported to; its update is found installed" wait_for 300 sh -c "journalctl -b -u jampasird -q --no-pager | grep -q 'upgrade4 is already installed'"
    echo "=== UNPLUG cut"

    # 4. Power cut mid-session: the host resets the machine, no shutdown.
    sleep 2; tap
    check "power cut: a session is running (systemctl status says so)" wait_for 10 status_is "session running"
    check "  … open in the store (jampasir sessions lists it as open)" has_open_session
    open_session > $state/cut-session
    echo powercut > $state/phase
    sync $state/n $state/cut-session $state/phase $state   # the test's own notes; the store syncs itself (synchronous=FULL)
    sleep 1
    echo "=== POWER-CUT"
    sleep 600
    ;;
powercut)
    wire
    cut=$(cat $state/cut-session)
    check "after the power cut: the service is back without anyone touching it" wait_for 180 active
    check "  … the store is intact (integrity_check)" sh -c "[ \"\$(sqlite3 -readonly $store 'PRAGMA integrity_check')\" = ok ]"
    check "  … the cut session ($cut) is recorded interrupted" wait_for 60 cut_session_interrupted "$cut"
    check "  … jampasir verify --store: the audit chain verifies" jampasir verify --store $store
    check "  … the USB policy is on again after the reboot" \
        sh -c '[ "$(cat /sys/bus/usb/devices/usb*/interface_authorized_default | sort -u)" = 0 ]'

    # 11. The kit in the villages: its battery board through Debian's NUT (dummy-ups replays
    # one from /etc/nut/kit.dev), upsmon set up as Hardware/README.md says. On low battery
    # upsmon shuts the kit down; here the mains then comes back and it boots again.
    kit_power() { # ups.status, battery.charge, battery.runtime: written whole (dummy-ups reads it when its time changes)
        printf 'ups.status: %s\nbattery.charge: %s\nbattery.runtime: %s\n' "$1" "$2" "$3" > /etc/nut/kit.dev.new
        mv /etc/nut/kit.dev.new /etc/nut/kit.dev
    }
    # (mmdebstrap's minimal image has no /etc/hosts; every installed Debian has, and without it
    # the lookup of localhost waits for a DNS server that is not there.)
    grep -qw localhost /etc/hosts 2>/dev/null || printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >> /etc/hosts
    kit_power OL 100 3600
    printf '[kit]\n    driver = dummy-ups\n    port = kit.dev\n    pollinterval = 1\n' > /etc/nut/ups.conf
    echo MODE=standalone > /etc/nut/nut.conf
    printf '[upsmon]\n    password = kitpass\n    upsmon primary\n' > /etc/nut/upsd.users
    cat > /usr/local/sbin/kit-shutdown <<'SCRIPT'
#!/bin/sh
# upsmon's SHUTDOWNCMD in the test: the kit shuts down, and is back on mains when it boots.
touch /var/lib/journeys/upsmon-shutdown
printf 'ups.status: OL\nbattery.charge: 100\nbattery.runtime: 3600\n' > /etc/nut/kit.dev.new
mv /etc/nut/kit.dev.new /etc/nut/kit.dev
sync
exec /usr/sbin/reboot
SCRIPT
    chmod 0755 /usr/local/sbin/kit-shutdown
    printf 'MONITOR kit@localhost 1 upsmon kitpass primary\nSHUTDOWNCMD "/usr/local/sbin/kit-shutdown"\nPOLLFREQ 1\nPOLLFREQALERT 1\nFINALDELAY 0\n' > /etc/nut/upsmon.conf
    chgrp nut /etc/nut/*; chmod 0640 /etc/nut/upsd.users /etc/nut/upsmon.conf
    systemctl restart nut-driver-enumerator.service 2>/dev/null
    systemctl restart nut-server.service nut-monitor.service
    check "kit: Debian's NUT serves the kit's battery board (dummy-ups), upsmon watches it" \
        wait_for 90 sh -c '[ "$(upsc kit@localhost ups.status 2>/dev/null)" = OL ] && systemctl is-active nut-driver@kit nut-server nut-monitor'
    printf '[power]\nups = "kit@localhost"\n' >> /etc/jampasir/jampasir.toml
    t11=$(date +%s); sleep 1
    systemctl restart jampasird
    check "  … power.ups set: jampasir doctor reads the board (mains, through the UPS), the metrics too" \
        wait_for 60 sh -c "jampasir doctor --no-beep | grep -q 'ok    power: mains, through the UPS (charge 100 %, runtime 60 min)' && grep -qx 'jampasir_power_on_battery 0' /run/jampasir/metrics/jampasir.prom"
    before=$(count)
    tap
    check "  … a session runs" wait_for 10 status_is "session running"
    kit_power "OB DISCHRG" 80 1800
    check "  … the mains goes during the session: on battery, in the journal and the metrics" \
        wait_for 60 sh -c "journalctl -u jampasird -q --no-pager --since @$t11 | grep -q 'power: on battery (charge 80 %, runtime 30 min); sessions go on' && grep -qx 'jampasir_power_on_battery 1' /run/jampasir/metrics/jampasir.prom"
    check "  … the session goes on" status_is "session running"
    tap
    check "  … and ends as timed (not interrupted)" wait_for 10 sh -c "[ \$(jampasir sessions --format csv --store $store | tail -n +2 | wc -l) = $((before + 1)) ] && [ \"\$(jampasir sessions --format csv --store $store | tail -n 1 | cut -d, -f7)\" != interrupted ]"
    kit_power "OB DISCHRG" 40 300
    check "below power.min_runtime_seconds: no new session (bAtt), the journal says why" \
        wait_for 60 sh -c "journalctl -u jampasird -q --no-pager --since @$t11 | grep -q 'power: battery too low for a session (charge 40 %, runtime 5 min): 5 min left, a session needs 10 min (power.min_runtime_seconds)' && [ \"\$(systemctl show -p StatusText --value jampasird)\" = 'battery too low: no new session' ]"
    sleep 2; tap
    check "  … a press starts nothing and is logged" wait_for 10 sh -c "journalctl -u jampasird -q --no-pager --since @$t11 | grep -q 'no session started: battery too low' && [ \$(jampasir sessions --format csv --store $store | tail -n +2 | wc -l) = $((before + 1)) ]"
    kit_power "OB DISCHRG" 70 1800
    check "  … the cells recover above the line: sessions start again" wait_for 60 status_is ready
    tap
    check "low battery with a session running" wait_for 10 status_is "session running"
    open_session > $state/kit-session
    echo kit > $state/phase
    sync $state/n $state/kit-session $state/phase $state
    sleep 2
    kit_power "OB LB" 10 100
    sleep 600
    check "upsmon shut the kit down on low battery" sh -c "journalctl -u nut-monitor -u jampasird -q --no-pager | tail -n 20; false"
    echo "COUNTER-JOURNEYS-DONE"
    systemctl poweroff
    ;;
kit)
    wire
    kit=$(cat $state/kit-session)
    check "after the shutdown on low battery: the service is back" wait_for 180 active
    check "  … it was upsmon's (its SHUTDOWNCMD ran)" test -e $state/upsmon-shutdown
    check "  … the shutdown stopped jampasird cleanly: the session ($kit) is interrupted WITH its elapsed time" \
        wait_for 60 sh -c "sessions() { jampasir sessions --format csv --store $store | tail -n +2; }; sessions | awk -F, -v id=$kit '\$1 == id && \$7 == \"interrupted\" && \$5 > 1000 { found = 1 } END { exit !found }' || { sessions | tail -n 2; false; }"
    check "  … jampasir verify --store: the audit chain verifies" jampasir verify --store $store
    check "  … on mains again: doctor says so" wait_for 60 sh -c "jampasir doctor --no-beep | grep -q 'ok    power: mains, through the UPS'"
    # Removal: the program goes, the evidence stays.
    check "apt purge jampasir" apt-get purge -y -q jampasir
    check "  … the program is gone" test ! -e /usr/bin/jampasird
    check "  … the configuration is gone" test ! -e /etc/jampasir/jampasir.toml
    check "  … the store and device key stay in /var/lib/jampasir" test -s $store -a -s /var/lib/jampasir/device.key
    echo done > $state/phase
    echo "COUNTER-JOURNEYS-DONE"
    systemctl poweroff
    ;;
*)
    echo "COUNTER-JOURNEYS-DONE"
    systemctl poweroff
    ;;
esac
