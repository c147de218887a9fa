// The official JavaScript SDK's side of the SDK comparison streaming benchmark (benches/sdk-comparison.sh):
// replicate.stream("bench/tokens", {input: {tokens, burst}}) read to its `done` event, counting output events.
//
//   BENCH_BASE_URL=... BENCH_TOKEN=... REPLICATE_JS=/path/to/node_modules/replicate node js_stream.cjs
//
// Prints one JSON line. CPU time is the process's user + system time over the measured window
// (process.cpuUsage()).
const Replicate = require(process.env.REPLICATE_JS || "replicate");

async function main() {
  const tokens = Number(process.env.BENCH_TOKENS || 200000);
  const burst = Number(process.env.BENCH_BURST || 1);
  const replicate = new Replicate({
    auth: process.env.BENCH_TOKEN || "r8_bench",
    baseUrl: process.env.BENCH_BASE_URL,
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let received = 0;
  let bytes = 0;
  let first = null;
  let done = false;
  let error = null;
  try {
    for await (const event of replicate.stream("bench/tokens", { input: { tokens, burst } })) {
      if (event.event === "output") {
        if (first === null) first = performance.now() - t0;
        received += 1;
        bytes += String(event.data).length;
      } else if (event.event === "done") {
        done = true;
        break;
      }
    }
  } catch (e) {
    error = String(e);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  console.log(
    JSON.stringify({
      tokens,
      burst,
      received,
      bytes,
      done,
      error,
      wall_s: wall,
      first_token_s: first === null ? wall : first / 1000,
      tokens_per_s: received / wall,
      cpu_s: cpuS,
      cpu_us_per_token: (cpuS * 1e6) / Math.max(received, 1),
    }),
  );
}

main();
