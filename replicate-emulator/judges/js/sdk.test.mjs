// replicate@1.4.0 (the official JS SDK) against the emulator: run, stream, paginate, files, errors.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  HELLO_WORLD_VERSION,
  ORIGIN,
  PNG_SIGNATURE,
  TOKEN,
  BASE_URL,
  client,
  outputBytes,
  recordingClient,
} from "./helpers.mjs";
import Replicate from "replicate";

test("run hello-world answers hello <text>", async () => {
  assert.equal(await client().run("replicate/hello-world", { input: { text: "js" } }), "hello js");
});

test("run by owner/name:version", async () => {
  const out = await client().run(`replicate/hello-world:${HELLO_WORLD_VERSION}`, { input: { text: "v" } });
  assert.equal(out, "hello v");
});

test("run in poll mode", async () => {
  const out = await client().run("replicate/hello-world", { input: { text: "poll" }, wait: { mode: "poll", interval: 50 } });
  assert.equal(out, "hello poll");
});

test("run the image model: outputs are real PNGs (sync mode and polled)", async () => {
  const r = client();
  const blocking = await r.run("black-forest-labs/flux-schnell", { input: { prompt: "js", num_outputs: 2 } });
  assert.ok(Array.isArray(blocking) && blocking.length === 2);
  for (const item of blocking) {
    assert.deepEqual((await outputBytes(item)).subarray(0, 8), PNG_SIGNATURE);
  }
  const polled = await r.run("black-forest-labs/flux-schnell", {
    input: { prompt: "js" },
    wait: { mode: "poll", interval: 50 },
  });
  assert.ok(Array.isArray(polled) && polled.length === 1);
  assert.ok(String(polled[0]).startsWith(`${ORIGIN}/`), String(polled[0]));
  assert.deepEqual((await outputBytes(polled[0])).subarray(0, 8), PNG_SIGNATURE);
});

test("run of a failing model rejects with its error", async () => {
  await assert.rejects(client().run("emulator/fail", { input: { message: "boom" } }), /Prediction failed: boom/);
});

test("stream: SSE output tokens join to the prediction's final output", async () => {
  const { client: r, seen } = recordingClient();
  const events = [];
  for await (const event of r.stream("emulator/stream-text", {
    input: { prompt: "sse", max_tokens: 12, token_delay: 0.1 },
  })) {
    events.push(event);
  }
  const outputs = events.filter((e) => e.event === "output").map((e) => e.data);
  assert.equal(outputs.length, 12, JSON.stringify(events));
  assert.equal(events.at(-1).event, "done");
  for (const e of events) assert.ok(e.id, `event without id: ${JSON.stringify(e)}`);
  const created = seen.find((s) => s.method === "POST" && s.body?.urls?.stream);
  assert.ok(created, "the create response carries urls.stream");
  const final = await r.predictions.get(created.body.id);
  assert.equal(final.status, "succeeded");
  assert.equal(outputs.join(""), final.output.join(""));
});

test("stream of a file iterator yields readable PNG files", async () => {
  const events = [];
  for await (const event of client().stream("emulator/file-iterator", { input: { count: 2, interval: 0.1 } })) {
    events.push(event);
  }
  const outputs = events.filter((e) => e.event === "output");
  assert.equal(outputs.length, 2);
  for (const e of outputs) {
    assert.deepEqual((await outputBytes(e.data)).subarray(0, 8), PNG_SIGNATURE);
  }
});

test("paginate walks every page of predictions", async () => {
  const r = client();
  const created = new Set();
  for (let i = 0; i < 105; i++) {
    const p = await r.predictions.create({ version: HELLO_WORLD_VERSION, input: { text: `page ${i}` } });
    created.add(p.id);
  }
  const seen = [];
  let pages = 0;
  for await (const page of r.paginate(r.predictions.list)) {
    pages += 1;
    seen.push(...page.map((p) => p.id));
  }
  assert.ok(pages >= 2, `pages: ${pages}`);
  assert.equal(new Set(seen).size, seen.length, "a prediction appeared twice");
  for (const id of created) assert.ok(seen.includes(id), `missing ${id}`);
});

test("files: create, get, list, delete", async () => {
  const r = client();
  const content = Buffer.from("judge file from js\n".repeat(4));
  const file = await r.files.create(content, { purpose: "judge" });
  assert.equal(file.size, content.length);
  assert.deepEqual(file.metadata, { purpose: "judge" });
  assert.match(file.checksums.sha256, /^[0-9a-f]{64}$/);
  assert.ok(file.urls.get.endsWith(`/files/${file.id}`), file.urls.get);
  const got = await r.files.get(file.id);
  assert.equal(got.id, file.id);
  const listed = [];
  for await (const page of r.paginate(r.files.list)) listed.push(...page.map((f) => f.id));
  assert.ok(listed.includes(file.id));
  assert.equal(await r.files.delete(file.id), true);
  await assert.rejects(r.files.get(file.id), (err) => err.response?.status === 404);
});

test("models and versions get", async () => {
  const r = client();
  const model = await r.models.get("replicate", "hello-world");
  assert.equal(model.latest_version.id, HELLO_WORLD_VERSION);
  const version = await r.models.versions.get("replicate", "hello-world", HELLO_WORLD_VERSION);
  assert.equal(version.id, HELLO_WORLD_VERSION);
  assert.ok(version.openapi_schema.components.schemas.Input.properties.text);
});

test("errors: 401 for a rejected token, 404, 422", async () => {
  const bad = new Replicate({ auth: "r8_rejected", baseUrl: BASE_URL });
  await assert.rejects(bad.models.get("replicate", "hello-world"), (err) => err.response?.status === 401);
  const r = client();
  await assert.rejects(r.models.get("nobody", "nothing"), (err) => err.response?.status === 404);
  await assert.rejects(
    r.run("replicate/hello-world", { input: {} }),
    (err) => err.response?.status === 422 && /invalid_fields|text/.test(err.message),
  );
  assert.ok(TOKEN);
});

test("run with a file input: uploaded through the files API, object output fits the schema", async () => {
  const { client: r, seen } = recordingClient();
  const wav = Buffer.from("RIFF$\x00\x00\x00WAVEfmt ", "latin1");
  const out = await r.run("soykertje/whisper", { input: { audio: wav } });
  assert.equal(typeof out.detected_language, "string");
  assert.equal(typeof out.transcription, "string");
  const upload = seen.find((s) => s.method === "POST" && s.url.endsWith("/files"));
  assert.ok(upload, "the SDK uploaded the file");
  const created = seen.find((s) => s.method === "POST" && s.url.includes("/predictions"));
  assert.equal(created.body.input.audio, upload.body.urls.get);
});
