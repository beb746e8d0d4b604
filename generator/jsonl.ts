/**
 * @module
 * Records as JSON lines, so a test can keep the exact list it produced and a run can be replayed.
 * One record per line, fields as in {@link GeneratedRecord}.
 */
import type { GeneratedRecord } from "./generate.ts";

const encoder = new TextEncoder();

/**
 * Writes records to a file, one JSON object per line (the file is replaced).
 * @param records any iterable, consumed once
 * @returns the number of records written
 */
export async function writeJsonl(
  records: Iterable<GeneratedRecord> | AsyncIterable<GeneratedRecord>,
  path: string,
): Promise<number> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const writer = file.writable.getWriter();
  let n = 0;
  let buf: string[] = [];
  try {
    for await (const r of records) {
      buf.push(JSON.stringify(r));
      n++;
      if (buf.length >= 2000) {
        await writer.write(encoder.encode(buf.join("\n") + "\n"));
        buf = [];
      }
    }
    if (buf.length > 0) await writer.write(encoder.encode(buf.join("\n") + "\n"));
  } finally {
    await writer.close();
  }
  return n;
}

/**
 * Reads records written by {@link writeJsonl}.
 * @throws {SyntaxError} naming the line number of a line that is not a record
 */
export async function readJsonl(path: string): Promise<GeneratedRecord[]> {
  const out: GeneratedRecord[] = [];
  const text = await Deno.readTextFile(path);
  let line = 0;
  for (const raw of text.split("\n")) {
    line++;
    if (raw.trim() === "") continue;
    let r: GeneratedRecord;
    try {
      r = JSON.parse(raw);
    } catch (e) {
      throw new SyntaxError(`${path}:${line}: not JSON: ${(e as Error).message}`, { cause: e });
    }
    if (
      typeof r !== "object" || r === null || typeof r.topic !== "string" ||
      typeof r.kafkaTs !== "number"
    ) {
      throw new SyntaxError(`${path}:${line}: not a generated record`);
    }
    out.push(r);
  }
  return out;
}
