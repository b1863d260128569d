#!/usr/bin/env bash
# Starts a new app from this template: copies the project into DIR and
# renames it. One command, nothing to install:
#
#   scripts/new-app.sh acme-portal            # into ../acme-portal
#   scripts/new-app.sh acme-portal ~/src/acme # or anywhere
#
# What is renamed (the same three placeholders `cargo generate` would fill):
#   project name   leptos-sessions  -> acme-portal   (site bundle, storage keys, JWT issuer)
#   crate name     leptos_sessions  -> acme_portal   (database names); the session
#                  engine crate `engine` becomes `acme_portal`
#   display name   Leptos Sessions  -> Acme Portal   (page titles, header, README)
# The member crates keep the cargo-leptos layout names: app, frontend, server
# (and testkit, the tests' shared code).
#
# Why a script and not `cargo generate` placeholders: `{{project-name}}` in
# the sources would stop this repository from building and testing as it
# is. The test command generates a project with this script and checks
# that both sides of it compile.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage() {
  echo "usage: scripts/new-app.sh NAME [DIR]" >&2
  echo "  NAME  lower-case letters, digits and '-', starting with a letter (e.g. acme-portal)" >&2
  echo "  DIR   where to create it (default: ../NAME, beside this repository)" >&2
  exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
name="$1"
if ! [[ "$name" =~ ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ ]]; then
  fail "'$name' is not a valid project name" "use lower-case letters, digits and single dashes, starting with a letter (e.g. acme-portal)"
fi
crate="${name//-/_}"
case "$crate" in
  app | frontend | server | engine | testkit | std | core | alloc | test | proc_macro | leptos | leptos_sessions)
    fail "'$name' would clash with a crate of the workspace or of Rust" "pick another name" ;;
esac
# acme-portal -> Acme Portal
title="$(echo "$name" | tr '-' ' ' | awk '{for (i = 1; i <= NF; i++) $i = toupper(substr($i, 1, 1)) substr($i, 2)} 1')"

dest="${2:-$REPO_ROOT/../$name}"
if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
  fail "$dest already exists and is not empty" "choose another DIR, or remove it"
fi
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

# Copy the sources: the tracked files of a git checkout, or else everything
# but build output and installed packages.
cd "$REPO_ROOT"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard \
    | tar --null --files-from=- -cf - \
    | tar -xf - -C "$dest"
else
  tar --exclude=./target --exclude=./.git --exclude=node_modules \
    --exclude=./end2end/test-results --exclude=./end2end/playwright-report \
    -cf - . | tar -xf - -C "$dest"
fi

# A new app is not a template: it does not carry the generator.
rm -f "$dest/scripts/new-app.sh" "$dest/scripts/check-template.sh"

# Rename inside every text file (binary files, such as screenshots, are
# left as they are). The engine crate is renamed where Rust or Cargo names
# it: paths (`engine::`, but not `base64::engine::`), `use engine`, dependency keys and features, log
# filters, `-p engine` in commands, and `engine` in backticks in the docs.
cd "$dest"
while IFS= read -r -d '' file; do
  grep -Iq . "$file" || continue
  NAME="$name" CRATE="$crate" TITLE="$title" perl -pi -e '
    s/leptos-sessions/$ENV{NAME}/g;
    s/leptos_sessions/$ENV{CRATE}/g;
    s/Leptos Sessions/$ENV{TITLE}/g;
    s/(?<!::)(?<!::\{)\bengine(?=::)/$ENV{CRATE}/g;
    s/\buse engine\b/use $ENV{CRATE}/g;
    s/`engine`/`$ENV{CRATE}`/g;
    s/(-p |--package )engine\b/$1$ENV{CRATE}/g;
    s/^engine(\s*=)/$ENV{CRATE}$1/;
    s/^name = "engine"/name = "$ENV{CRATE}"/;
    s/^ "engine",$/ "$ENV{CRATE}",/;
    s/"dep:engine"/"dep:$ENV{CRATE}"/g;
    s/"engine\//"$ENV{CRATE}\//g;
    s/\bengine=(info|debug|trace|warn)/$ENV{CRATE}=$1/g;
  ' "$file"
done < <(find . -type f -not -path './.git/*' -print0)

if have git && [ ! -d .git ]; then
  git init -q && git add -A
fi

cat <<EOF

created $title in $dest
  project name: $name    crate: $crate

next:
  cd $dest
  make run     # build and serve at http://localhost:3000
  make test    # the Rust and Playwright tests
EOF
