// Drives the gateway hub with the official SignalR JavaScript client (@microsoft/signalr) under Node.
//
//   node hub-client.mjs <hubUrl> <cursor|none>      (the bearer token comes from the ESC_TOKEN environment variable)
//
// Connects (negotiate, then the best transport: WebSockets) with an accessTokenFactory, waits for the hub's hello (sent
// once the connection is registered for its channels; before it, live events can miss the connection), calls
// Resume(cursor) unless the cursor is "none" (a client that has seen nothing yet, like the web client's first start),
// then prints one JSON line per step on stdout:
//   {"step":"ready","connectionId":...,"hello":{...},"eventsBeforeHello":0}   connected, hello received (and resumed)
//   {"step":"done","events":[...]}                                   a message.posted and a typing event arrived
//   {"step":"failed","error":...}                                    anything else (exit code 1)
// The xunit test (tests/EventSourcedChat.Tests/Realtime/JsClient.cs) reads these lines and asserts on them.
import { HubConnectionBuilder, LogLevel } from "@microsoft/signalr";

const [hubUrl, cursorText] = process.argv.slice(2);
const token = process.env.ESC_TOKEN;
const timeoutMs = Number(process.env.ESC_TIMEOUT_MS ?? 20000);

const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

async function main() {
  if (!hubUrl || cursorText === undefined || !token) {
    throw new Error("usage: ESC_TOKEN=... node hub-client.mjs <hubUrl> <cursor>");
  }
  const events = [];
  let tokenRequests = 0;
  const connection = new HubConnectionBuilder()
    .withUrl(hubUrl, {
      accessTokenFactory: () => {
        tokenRequests++;
        return token;
      },
    })
    .configureLogging(LogLevel.Warning)
    .build();

  let complete;
  const done = new Promise((resolve) => (complete = resolve));
  let welcome;
  const hello = new Promise((resolve) => (welcome = resolve));
  let eventsBeforeHello = 0;
  let helloSeen = false;
  // The hub calls the client method "Event"; the JS client matches method names case-insensitively.
  connection.on("event", (envelope) => {
    if (envelope.type === "hello") {
      helloSeen = true;
      welcome(envelope);
      return;
    }
    if (!helloSeen) eventsBeforeHello++;
    events.push(envelope);
    const types = new Set(events.map((e) => e.type));
    if (types.has("message.posted") && types.has("typing")) {
      complete();
    }
  });

  await connection.start();
  // start() resolves on the handshake, before the hub registered the connection: wait for hello (bounded).
  let helloTimer;
  const helloEnvelope = await Promise.race([
    hello,
    new Promise((_, reject) => (helloTimer = setTimeout(() => reject(new Error("no hello from the hub")), timeoutMs))),
  ]);
  clearTimeout(helloTimer);
  if (cursorText !== "none") await connection.invoke("Resume", Number(cursorText));
  print({ step: "ready", connectionId: connection.connectionId, state: connection.state, tokenRequests, hello: helloEnvelope, eventsBeforeHello });

  const timer = setTimeout(() => complete(), timeoutMs);
  await done;
  clearTimeout(timer);
  await connection.stop();
  print({ step: "done", events, tokenRequests, eventsBeforeHello });
}

main().then(
  () => process.exit(0),
  (error) => {
    print({ step: "failed", error: String(error?.stack ?? error) });
    process.exit(1);
  },
);
