#!/usr/bin/env bash
# Installs what the tests and the local run need when it is missing:
#   redis-server (Debian package), promtool (Debian package prometheus, for the Prometheus config and
#   alert rule checks), docker-compose (Debian package, for `docker-compose config` of docker-compose.yml;
#   not needed when the docker client has the compose plugin), nginx (Debian package, to run the compose
#   entry point's deploy/nginx/nginx.conf in front of test gateways), and FerretDB v1.24.2 built from the Go
#   module proxy into .tools/bin/ferretdb, and chromium (Debian package, for the client SDK's browser test,
#   driven by playwright-core at /usr/bin/chromium; playwright's own browser download is not used), with
#   fonts-noto-color-emoji for the demo's gift icons.
# Usage: scripts/deps.sh [redis] [ferretdb] [promtool] [compose] [nginx] [chromium]   (no argument: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(redis ferretdb promtool compose nginx chromium)

apt_updated=0
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: $1 is missing and installing it needs root (apt-get install $1)" >&2
    exit 1
  fi
  if [ $apt_updated -eq 0 ]; then
    echo "deps: apt-get update" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  echo "deps: apt-get install $1" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}

for dep in "${want[@]}"; do
  case "$dep" in
    redis)
      command -v redis-server >/dev/null 2>&1 || apt_install redis-server
      # The package starts a system service on 6379; the project starts its own servers.
      ;;
    promtool)
      command -v promtool >/dev/null 2>&1 || apt_install prometheus
      ;;
    nginx)
      command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || apt_install nginx
      ;;
    chromium)
      [ -x /usr/bin/chromium ] || apt_install chromium
      # Gift icons are emoji: without a colour emoji font the demo's screenshots show empty boxes.
      [ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || apt_install fonts-noto-color-emoji
      ;;
    compose)
      docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
      ;;
    ferretdb)
      if [ ! -x .tools/bin/ferretdb ]; then
        command -v go >/dev/null 2>&1 || { echo "deps: Go is needed to build FerretDB (tools/ferretdb)" >&2; exit 1; }
        echo "deps: building FerretDB v1.24.2 (first time only, about 2 minutes)" >&2
        mkdir -p .tools/bin
        (cd tools/ferretdb && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath -o ../../.tools/bin/ferretdb .)
      fi
      ;;
    *)
      echo "deps: unknown dependency $dep" >&2
      exit 2
      ;;
  esac
done
