/**
 * @module
 * `deno task bench [stream|batch|serve|shared ...]`: runs the named benchmarks (all when none is
 * named), each in its own process so figures and peak RSS are not mixed. Each prints its figures and
 * the ratio against its reference measured in the same run.
 */

const BENCHES: Record<string, { args: string[]; what: string }> = {
  stream: {
    args: ["run", "-A", "bench/stream_bench.ts"],
    what: "speed layer: events/s vs Kafka ConsumerPerformance, event-to-view latency at 5k/s",
  },
  batch: {
    args: ["run", "-A", "bench/batch_bench.ts"],
    what: "batch layer: all jobs over a day of events vs a bare DuckDB scan",
  },
  serve: {
    args: ["run", "-A", "bench/serve_bench.ts"],
    what: "serving layer: autocannon on three queries vs a trivial query",
  },
  shared: {
    args: ["bench", "-A", "bench/shared_bench.ts"],
    what: "micro-benchmarks: event parsing and sketches",
  },
};

function usage(): string {
  return "usage: deno task bench [" + Object.keys(BENCHES).join("|") + "] ...\n" +
    Object.entries(BENCHES).map(([k, v]) => `  ${k.padEnd(7)} ${v.what}`).join("\n");
}

async function main(): Promise<number> {
  const names = Deno.args.length > 0 ? Deno.args : ["stream", "batch", "serve"];
  for (const name of names) {
    if (name === "-h" || name === "--help") {
      console.log(usage());
      return 0;
    }
    if (!(name in BENCHES)) {
      console.error(`Unknown benchmark "${name}".\n${usage()}`);
      return 2;
    }
  }
  let failed = 0;
  for (const name of names) {
    console.log(`\n=== bench ${name}: ${BENCHES[name].what} ===`);
    const child = new Deno.Command(Deno.execPath(), {
      args: BENCHES[name].args,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const status = await child.status;
    if (!status.success) {
      console.error(`bench ${name} failed with exit code ${status.code}`);
      failed++;
    }
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
