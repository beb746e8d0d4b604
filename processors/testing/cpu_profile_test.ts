import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { areaOf, summarizeProfile } from "./cpu_profile.ts";

Deno.test("profile areas name npm packages, repo folders and V8's pseudo frames", () => {
  assertEquals(
    areaOf("file:///work/main/node_modules/.deno/kafkajs@2.2.4/node_modules/kafkajs/src/x.js", "f"),
    "npm:kafkajs",
  );
  assertEquals(
    areaOf("file:///work/main/processors/runtime/fast_parse.ts", "f"),
    "processors/runtime",
  );
  assertEquals(areaOf("", "(garbage collector)"), "(gc)");
  assertEquals(areaOf("ext:deno_node/buffer.ts", "f"), "deno runtime (ext:/node:)");
});

Deno.test("self time is summed per area and function", async () => {
  const path = await Deno.makeTempFile({ suffix: ".cpuprofile" });
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      nodes: [
        { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: 0 }, children: [2, 3] },
        {
          id: 2,
          callFrame: {
            functionName: "parse",
            url: "file:///work/main/processors/runtime/fast_parse.ts",
            lineNumber: 9,
          },
        },
        { id: 3, callFrame: { functionName: "(garbage collector)", url: "", lineNumber: 0 } },
      ],
      samples: [2, 2, 3, 2],
      timeDeltas: [0, 1000, 1000, 1000],
      startTime: 0,
      endTime: 4000,
    }),
  );
  const s = await summarizeProfile(path);
  await Deno.remove(path);
  assertEquals(s.areas.map((a) => [a.name, a.ms]), [["processors/runtime", 3], ["(gc)", 1]]);
  assertEquals(s.functions[0].name, "parse fast_parse.ts:10");
});
