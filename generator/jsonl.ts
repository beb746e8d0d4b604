/**
 * @module
 * Records as JSON lines, so a test can keep the exact list it produced and a run can be replayed.
 * One record per line, fields as in {@link GeneratedRecord}.
 */
import type { GeneratedRecord } from "./generate.ts";

const encoder = new TextEncoder();

/** Appends records to a JSONL file as they pass (for writing and producing one stream). */
export interface JsonlWriter {
  write(record: GeneratedRecord): void;
  /** Writes what is buffered and closes the file. */
  close(): void;
  readonly written: number;
}

/** Opens (and truncates) a JSONL file for records. */
export function createJsonlWriter(path: string): JsonlWriter {
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  let buf: string[] = [];
  let written = 0;
  const flush = () => {
    if (buf.length === 0) return;
    const bytes = encoder.encode(buf.join("\n") + "\n");
    for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
    buf = [];
  };
  return {
    write(record) {
      buf.push(JSON.stringify(record));
      written++;
      if (buf.length >= 2000) flush();
    },
    close() {
      flush();
      file.close();
    },
    get written() {
      return written;
    },
  };
}

/**
 * Writes records to a file, one JSON object per line (the file is replaced).
 * @param records any iterable, consumed once
 * @returns the number of records written
 */
export async function writeJsonl(
  records: Iterable<GeneratedRecord> | AsyncIterable<GeneratedRecord>,
  path: string,
): Promise<number> {
  const w = createJsonlWriter(path);
  try {
    for await (const r of records) w.write(r);
  } finally {
    w.close();
  }
  return w.written;
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
