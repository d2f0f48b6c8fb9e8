package livegate;

import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import io.socket.engineio.client.transports.WebSocket;
import java.util.Collections;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * The Java Socket.IO client against livegate. Usage: SioScenario URL TOKEN. Prints one JSON object
 * per line with a "step", in the order of test/clients/python/sio_scenario.py:
 * connected, ack, waiting-event, event, echo, echo-bare, ready-for-kick, disconnected, done.
 */
public final class SioScenario {
  private static synchronized void say(JSONObject line) {
    System.out.println(line.toString());
    System.out.flush();
  }

  /** A step line: its name, then field names and values in turn. */
  private static JSONObject step(String name, Object... fields) {
    try {
      JSONObject line = new JSONObject().put("step", name);
      for (int i = 0; i + 1 < fields.length; i += 2) line.put((String) fields[i], fields[i + 1]);
      return line;
    } catch (JSONException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Object[] call(Socket socket, String event, Object data) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    Object[][] reply = new Object[1][];
    socket.emit(event, new Object[] {data}, (Ack) args -> {
      reply[0] = args;
      done.countDown();
    });
    if (!done.await(10, TimeUnit.SECONDS)) throw new IllegalStateException("no ack for " + event);
    return reply[0];
  }

  public static void main(String[] argv) throws Exception {
    IO.Options options = IO.Options.builder()
        .setTransports(new String[] {WebSocket.NAME})
        .setAuth(Collections.singletonMap("token", argv[1]))
        .setReconnectionDelay(50)
        .setReconnectionDelayMax(100)
        .setForceNew(true)
        .build();
    Socket socket = IO.socket(argv[0], options);
    CountDownLatch connected = new CountDownLatch(1);
    CountDownLatch gotEvent = new CountDownLatch(1);
    CountDownLatch disconnected = new CountDownLatch(1);
    socket.on(Socket.EVENT_CONNECT, args -> {
      say(step("connected", "sid", socket.id()));
      connected.countDown();
    });
    socket.on(Socket.EVENT_CONNECT_ERROR, args -> say(step("error", "message", String.valueOf(args[0]))));
    socket.on(Socket.EVENT_DISCONNECT, args -> {
      say(step("disconnected", "reason", String.valueOf(args[0])));
      disconnected.countDown();
    });
    socket.on("team:update", args -> {
      say(step("event", "args", args.length, "data", args[0]));
      gotEvent.countDown();
    });
    socket.connect();
    if (!connected.await(10, TimeUnit.SECONDS)) throw new IllegalStateException("not connected");
    say(step("ack", "data", call(socket, "session:info", new JSONObject())[0]));
    say(step("waiting-event"));
    if (!gotEvent.await(20, TimeUnit.SECONDS)) throw new IllegalStateException("no team:update event");
    byte[] file = {0, 1, (byte) 0xfa, (byte) 0xff};
    JSONObject echoed = (JSONObject) call(socket, "session:echo", new JSONObject().put("file", file).put("name", "x.bin"))[0];
    Object back = echoed.get("file");
    say(step("echo", "type", back.getClass().getSimpleName(), "hex", back instanceof byte[] b ? HexFormat.of().formatHex(b) : String.valueOf(back), "name",
        echoed.getString("name")));
    Object bare = call(socket, "session:echo", "raw".getBytes())[0];
    say(step("echo-bare", "type", bare.getClass().getSimpleName(), "hex", bare instanceof byte[] b ? HexFormat.of().formatHex(b) : String.valueOf(bare)));
    say(step("ready-for-kick"));
    if (!disconnected.await(20, TimeUnit.SECONDS)) throw new IllegalStateException("not disconnected");
    // isActive(): whether the client will reconnect by itself.
    say(step("done", "connected", socket.connected(), "active", socket.isActive()));
    socket.close();
    System.exit(0);
  }

  private SioScenario() {}

}
