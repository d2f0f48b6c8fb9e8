#!/usr/bin/env bash
# Installs what the tests and the local run need when it is missing:
#   redis-server (Debian package), promtool (Debian package prometheus, for the Prometheus config and
#   alert rule checks), docker-compose (Debian package, for `docker-compose config` of docker-compose.yml;
#   not needed when the docker client has the compose plugin), nginx (Debian package, to run the compose
#   entry point's deploy/nginx/nginx.conf in front of test gateways), and FerretDB v1.24.2 built from the Go
#   module proxy into .tools/bin/ferretdb; chromium (Debian package, driven by playwright-core in the
#   browser tests, with fonts-noto-color-emoji for the demo's gift icons); sio-clients: the Socket.IO clients of other platforms for
#   test/gateway/sio-clients.test.ts (python-socketio from PyPI in the venv .tools/sio-python, the Java
#   client io.socket:socket.io-client 2.1.1 from Maven Central built with Maven into .tools/sio-java).
# Usage: scripts/deps.sh [redis] [ferretdb] [promtool] [compose] [nginx] [chromium] [sio-clients]   (no argument: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(redis ferretdb promtool compose nginx chromium sio-clients)

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
    chromium)
      [ -x /usr/bin/chromium ] || apt_install chromium
      # Gift icons are emoji: without a colour emoji font the demo's screenshots show empty boxes.
      [ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || apt_install fonts-noto-color-emoji
      ;;
    nginx)
      command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || apt_install nginx
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
    sio-clients)
      if [ ! -x .tools/sio-python/bin/python ] || ! .tools/sio-python/bin/python -c 'import socketio, websocket' 2>/dev/null; then
        echo "deps: python-socketio into .tools/sio-python" >&2
        python3 -m venv .tools/sio-python
        .tools/sio-python/bin/pip install -q 'python-socketio[client]==5.18.1'
      fi
      if [ ! -f .tools/sio-java/classpath.txt ] || [ test/clients/java/src/main/java/livegate/SioScenario.java -nt .tools/sio-java/classpath.txt ]; then
        echo "deps: Java Socket.IO client scenario into .tools/sio-java (Maven)" >&2
        mkdir -p .tools/sio-java
        mvn -q -B -f test/clients/java/pom.xml compile dependency:build-classpath -Dmdep.outputFile="$PWD/.tools/sio-java/classpath.txt"
      fi
      ;;
    *)
      echo "deps: unknown dependency $dep" >&2
      exit 2
      ;;
  esac
done
