// Shared setup for the JS judges: a client of the official SDK (replicate@1.4.0) pointed at the
// emulator that run.sh started (REPLICATE_BASE_URL / REPLICATE_API_TOKEN).
import Replicate from "replicate";

export const BASE_URL = process.env.REPLICATE_BASE_URL;
export const TOKEN = process.env.REPLICATE_API_TOKEN;
export const ORIGIN = BASE_URL ? BASE_URL.replace(/\/v1$/, "") : undefined;
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const HELLO_WORLD_VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa";

if (!BASE_URL || !TOKEN) {
  throw new Error("run through run.sh: REPLICATE_BASE_URL and REPLICATE_API_TOKEN must be set");
}

/** A client whose fetch records every JSON response body it saw (to learn prediction ids). */
export function recordingClient(options = {}) {
  const seen = [];
  const client = new Replicate({
    auth: TOKEN,
    baseUrl: BASE_URL,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const type = response.headers.get("content-type") || "";
      if (type.includes("json")) {
        try {
          seen.push({ url: String(input), method: init?.method || "GET", body: await response.clone().json() });
        } catch {
          // not JSON after all
        }
      }
      return response;
    },
    ...options,
  });
  return { client, seen };
}

export function client(options = {}) {
  return new Replicate({ auth: TOKEN, baseUrl: BASE_URL, ...options });
}

/** Bytes of a file output: an SDK FileOutput, or an emulator URL fetched with the token. */
export async function outputBytes(item) {
  if (item && typeof item.blob === "function" && typeof item.url === "function") {
    return Buffer.from(await (await item.blob()).arrayBuffer());
  }
  if (typeof item !== "string" || !item.startsWith(`${ORIGIN}/`)) {
    throw new Error(`not a file output of this emulator: ${String(item).slice(0, 80)}`);
  }
  const response = await fetch(item, { headers: { Authorization: `Bearer ${TOKEN}` } });
  if (!response.ok) throw new Error(`GET ${item} answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

export async function eventually(check, { timeoutMs = 10000, intervalMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
