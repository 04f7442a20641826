#!/usr/bin/env python3
"""jampasir.toml(5) from the commented default configuration it documents (systemd/jampasir.toml),
so the manual page and the file a technician finds in /etc/jampasir never disagree.

    config-manpage.py CONFIG VERSION DATE > jampasir.toml.5

The file's layout is the contract (Tests/JamPasirConfigTests checks it lists every key):
a header comment, then `[table]` lines, each followed by comment lines describing the
`# key = default` lines after them."""
import re
import sys

config_path, version, date = sys.argv[1:4]


def roff(text):
    text = text.replace("\\", "\\e")
    return "\\&" + text if text.startswith((".", "'")) else text


lines = open(config_path, encoding="utf-8").read().splitlines()
key_line = re.compile(r"# ([a-z_0-9]+) = (.+)")
header, sections, table = [], [], None
words, keys = [], []


def flush():
    global words, keys
    if table is not None and (words or keys):
        sections[-1][1].append((words, keys))
    words, keys = [], []


for line in lines:
    if line.startswith("["):
        flush()
        table = line.strip("[]")
        sections.append((table, []))
    elif key_line.fullmatch(line):
        keys.append(line[2:])
    elif line.startswith("#"):
        if keys:
            flush()
        (words if table is not None else header).append(line.lstrip("# ").rstrip())
    elif not line.strip():
        flush()
flush()

out = [
    f'.TH JAMPASIR.TOML 5 "{date}" "jampasir {version}" "File Formats Manual"',
    ".SH NAME",
    "jampasir.toml \\- configuration of the JamPasir counter daemon",
    ".SH SYNOPSIS",
    "/etc/jampasir/jampasir.toml",
    ".SH DESCRIPTION",
]
out += [roff(w) if w else ".PP" for w in header[1:]]  # the first line names the file
for name, groups in sections:
    out.append(f".SH [{name}]")
    for words, keys in groups:
        out.append(".PP")
        out += [roff(w) for w in words if w]
        if keys:
            out += [".RS", ".nf"] + [roff(k) for k in keys] + [".fi", ".RE"]
out += [
    ".SH FILES",
    ".TP",
    "/etc/jampasir/jampasir.toml",
    "The configuration read by \\fBjampasird\\fR(8) and \\fBjampasir\\fR(1) unless \\fB\\-\\-config\\fR names another.",
    ".SH SEE ALSO",
    "\\fBjampasird\\fR(8), \\fBjampasir\\fR(1)",
]
print("\n".join(out))
