#!/usr/bin/env bash
# Builds Centrifugo v6.9.1 from the Go module proxy into .tools/bin/centrifugo (never committed).
# `go install ...@v6.9.1` fails here because the proxy refuses the module's version list
# (the deprecation check); downloading the exact version and building a copy of it works.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v6.9.1
[ -x .tools/bin/centrifugo ] && exit 0
mkdir -p .tools
exec 9>.tools/centrifugo.lock
flock 9 # one build at a time; a second caller waits, then finds the binary
[ -x .tools/bin/centrifugo ] && exit 0
command -v go >/dev/null 2>&1 || { echo "centrifugo: Go is not installed" >&2; exit 1; }
mkdir -p .tools/bin
dir=$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "github.com/centrifugal/centrifugo/v6@$VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { echo "centrifugo: download failed" >&2; exit 1; }
rm -rf .tools/centrifugo-src && cp -r "$dir" .tools/centrifugo-src && chmod -R u+w .tools/centrifugo-src
echo "centrifugo: building $VERSION (first time only, several minutes)" >&2
build() { (cd .tools/centrifugo-src && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath -ldflags "-X github.com/centrifugal/centrifugo/v6/internal/build.Version=${VERSION#v}" -o ../bin/centrifugo .); }
rm -f .tools/centrifugo.note
if ! build; then
  # v6.9.1 pins github.com/centrifugal/centrifuge to an untagged commit whose zip the module proxy
  # refuses (403). Build that exact commit from a git clone of centrifugal/centrifuge instead
  # (CENTRIFUGE_GIT, default: the local mirror when there is one) through a replace directive.
  commit=84d40cc4dbf6
  git_dir=${CENTRIFUGE_GIT:-/work/.mirror/centrifugal+centrifuge/repo}
  if ! git --git-dir="$git_dir" cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "v6.9.1 does not build from the module proxy alone: its pinned github.com/centrifugal/centrifuge v0.38.1-0.20260711082514-$commit is refused (403); set CENTRIFUGE_GIT to a clone of centrifugal/centrifuge that has that commit" > .tools/centrifugo.note
    cat .tools/centrifugo.note >&2
    rm -rf .tools/centrifugo-src
    exit 1
  fi
  echo "centrifugo: using centrifuge $commit from $git_dir" >&2
  rm -rf .tools/centrifuge-src && mkdir -p .tools/centrifuge-src
  # Blob by blob, skipping _examples/ (a mirror may lack its large binaries; the library does not need them).
  git --git-dir="$git_dir" ls-tree -r --full-tree "$commit" | while IFS=$'\t' read -r meta path; do
    case "$path" in _examples/*) continue ;; esac
    set -- $meta
    [ "$2" = blob ] || continue
    mkdir -p ".tools/centrifuge-src/$(dirname "$path")"
    git --git-dir="$git_dir" cat-file blob "$3" > ".tools/centrifuge-src/$path"
  done
  (cd .tools/centrifugo-src && GOTOOLCHAIN=local go mod edit -replace "github.com/centrifugal/centrifuge=../centrifuge-src")
  build
  rm -rf .tools/centrifuge-src
  echo "built from v6.9.1; its pinned github.com/centrifugal/centrifuge commit $commit (refused by the module proxy) came from a git mirror of centrifugal/centrifuge" > .tools/centrifugo.note
fi
rm -rf .tools/centrifugo-src
    exit 1
  fi
fi
rm -rf .tools/centrifugo-src
