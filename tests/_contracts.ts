/**
 * @module
 * The external contract as tests read it: CONTRACTS.md from the guidance folder beside the
 * repository when present, else the repository's copy in docs/.
 */

const CANDIDATES = [
  new URL("../../shared/CONTRACTS.md", import.meta.url),
  new URL("../docs/CONTRACTS.md", import.meta.url),
];

/** The text of CONTRACTS.md. */
export async function contractsText(): Promise<string> {
  for (const url of CANDIDATES) {
    try {
      return await Deno.readTextFile(url);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new Error(`CONTRACTS.md not found at ${CANDIDATES.map((u) => u.pathname).join(" or ")}`);
}

/** The GraphQL SDL of CONTRACTS.md §4 (its one ```graphql block). */
export async function contractSdl(): Promise<string> {
  const m = /```graphql\n([\s\S]*?)```/.exec(await contractsText());
  if (!m) throw new Error("CONTRACTS.md has no ```graphql block");
  return m[1];
}
