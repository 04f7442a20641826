#!/usr/bin/env bash
# What the package ships in /usr/share besides the programs (`make docs`; make-deb.sh calls it):
# manual pages — jampasir(1) and jampasird(8) from the commands themselves with
# swift-argument-parser's generate-manual tool, jampasir.toml(5) from the commented default
# configuration — and jampasir's shell completions (bash, zsh, fish). Made with a host build:
# they are the same for every architecture. OUT (default .build/share) is laid out as /usr/share.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/share}
date=$(date -u -d @"$(git log -1 --format=%ct 2>/dev/null || date +%s)" +%Y-%m-%d)

rm -rf "$out"
mkdir -p "$out"/man/man{1,5,8} "$out/bash-completion/completions" "$out/zsh/vendor-completions" \
    "$out/fish/vendor_completions.d"
for product in generate-manual jampasir jampasird; do swift build --product "$product" >/dev/null; done
version=$(.build/debug/jampasird --version)
# Help texts keep their line breaks (examples one per line); a blank line is a paragraph break.
keep_lines='/^$/ { print ".Pp"; text = 0; next } !/^\./ { if (text) print ".br"; text = 1; print; next } { text = 0; print }'
page() { # section, program
    .build/debug/generate-manual ".build/debug/$2" --section "$1" --date "$date" --authors "JamPasir developers" \
        --output-directory - | awk "$keep_lines" | gzip -9n > "$out/man/man$1/$2.$1.gz"
}
page 1 jampasir
page 8 jampasird
python3 scripts/config-manpage.py systemd/jampasir.toml "$version" "$date" | gzip -9n > "$out/man/man5/jampasir.toml.5.gz"
# The root helper has no argument parser (it links no Foundation): its page is written by hand.
sed -e "s/@DATE@/$date/" -e "s/@VERSION@/$version/" packaging/man/jampasir-mountd.8 | gzip -9n > "$out/man/man8/jampasir-mountd.8.gz"

cli=.build/debug/jampasir
"$cli" --generate-completion-script bash | sed "1{/^#!/d}" > "$out/bash-completion/completions/jampasir"  # sourced, not run
"$cli" --generate-completion-script zsh > "$out/zsh/vendor-completions/_jampasir"
"$cli" --generate-completion-script fish > "$out/fish/vendor_completions.d/jampasir.fish"
find "$out" -type f | sort
