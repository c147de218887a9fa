// replicate@1.4.0: validateWebhook accepts the signed deliveries the emulator sends to a local receiver.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";

import { validateWebhook } from "replicate";
import { BASE_URL, HELLO_WORLD_VERSION, client, eventually } from "./helpers.mjs";

function startReceiver() {
  const deliveries = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ server, deliveries, url: `http://127.0.0.1:${port}/hook` });
    });
  });
}

test("validateWebhook accepts every delivery of a prediction, and rejects a tampered one", async () => {
  const r = client();
  const { key: secret } = await r.webhooks.default.secret.get();
  assert.match(secret, /^whsec_/);
  const receiver = await startReceiver();
  try {
    const prediction = await r.predictions.create({
      version: HELLO_WORLD_VERSION,
      input: { text: "webhook" },
      webhook: receiver.url,
      webhook_events_filter: ["start", "output", "logs", "completed"],
    });
    const parsed = () => receiver.deliveries.map((d) => JSON.parse(d.body));
    await eventually(() => parsed().some((p) => p.status === "succeeded"));
    assert.ok(receiver.deliveries.length >= 2, `deliveries: ${receiver.deliveries.length}`);
    for (const d of receiver.deliveries) {
      const body = JSON.parse(d.body);
      assert.equal(body.id, prediction.id);
      const fields = {
        id: d.headers["webhook-id"],
        timestamp: d.headers["webhook-timestamp"],
        signature: d.headers["webhook-signature"],
        body: d.body,
        secret,
      };
      assert.equal(await validateWebhook(fields), true, `delivery ${fields.id} not valid`);
      const request = new Request(receiver.url, {
        method: "POST",
        headers: {
          "webhook-id": fields.id,
          "webhook-timestamp": fields.timestamp,
          "webhook-signature": fields.signature,
          "content-type": "application/json",
        },
        body: d.body,
      });
      assert.equal(await validateWebhook(request, secret), true);
      assert.equal(await validateWebhook({ ...fields, body: d.body.replace("webhook", "hacked") }), false);
    }
    const final = parsed().find((p) => p.status === "succeeded");
    assert.equal(final.output, "hello webhook");
    assert.ok(BASE_URL);
  } finally {
    // the emulator's HTTP client keeps its connection to the receiver alive (pooled): drop it,
    // or the test process lingers until that idle connection times out
    receiver.server.close();
    receiver.server.closeAllConnections();
  }
});
