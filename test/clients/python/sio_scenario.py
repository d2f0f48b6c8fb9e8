"""python-socketio (the PyPI client) against livegate, driven by test/gateway/sio-clients.test.ts.

Usage: sio_scenario.py URL TOKEN
Prints one JSON object per line, each with a "step":
  connected -> ack (session:info) -> waiting-event -> event (the test publishes team:update)
  -> echo (binary round-trip) -> ready-for-kick -> disconnected (the test kicks) -> done
Handlers take exactly the arguments the app emitted: a handler of one argument raises TypeError
inside python-socketio (and loses the event) if the server sends more.
"""
import json
import sys
import threading

import socketio

url, token = sys.argv[1], sys.argv[2]
sio = socketio.Client(reconnection=True, reconnection_delay=0.05, reconnection_delay_max=0.1)
got_event = threading.Event()


def say(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


@sio.event
def connect():
    say("connected", sid=sio.get_sid())


@sio.event
def disconnect(reason=None):
    say("disconnected", reason=str(reason))


@sio.on("team:update")
def on_update(data):
    say("event", data=data)
    got_event.set()


sio.connect(url, transports=["websocket"], auth={"token": token}, wait_timeout=10)
say("ack", data=sio.call("session:info", {}, timeout=10))
say("waiting-event")
if not got_event.wait(20):
    say("error", message="no team:update event")
    sys.exit(1)
reply = sio.call("session:echo", {"file": b"\x00\x01\xfa\xff", "name": "x.bin"}, timeout=10)
say("echo", type=type(reply["file"]).__name__, hex=reply["file"].hex(), name=reply["name"])
bare = sio.call("session:echo", b"raw", timeout=10)
say("echo-bare", type=type(bare).__name__, hex=bare.hex())
say("ready-for-kick")
# Returns once the client is disconnected and not reconnecting (wait() follows a reconnection).
sio.wait()
say("done", connected=sio.connected)
