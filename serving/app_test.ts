import assert from "node:assert/strict";
import { MAX_REQUEST_BODY_BYTES } from "./app.ts";
import { memoryApp } from "./testing/memory_app.ts";

const QUERY = JSON.stringify({ query: "{ __typename }" });

Deno.test("a GraphQL body is read before Yoga: sized, streamed without a length, and GET", async () => {
  const { app } = memoryApp();
  const sized = await app.request("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: QUERY,
  });
  assert.deepEqual(await sized.json(), { data: { __typename: "Query" } });
  const bytes = new TextEncoder().encode(QUERY);
  const streamed = await app.request("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: new ReadableStream({
      start(c) {
        c.enqueue(bytes.subarray(0, 5));
        c.enqueue(bytes.subarray(5));
        c.close();
      },
    }),
    // @ts-ignore: `duplex` is required for a streamed body but missing from the DOM typings
    duplex: "half",
  });
  assert.deepEqual(await streamed.json(), { data: { __typename: "Query" } });
  const get = await app.request("/graphql?query=%7B__typename%7D", {
    headers: { accept: "application/json" },
  });
  assert.deepEqual(await get.json(), { data: { __typename: "Query" } });
});

Deno.test("a GraphQL body over the limit is refused with 413, by its length or as it streams", async () => {
  const { app } = memoryApp();
  const declared = await app.request("/graphql", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "content-length": String(MAX_REQUEST_BODY_BYTES + 1),
    },
    body: QUERY,
  });
  assert.equal(declared.status, 413);
  assert.equal((await declared.json()).errors[0].extensions.code, "REQUEST_ENTITY_TOO_LARGE");
  const chunk = new Uint8Array(1 << 20).fill(32);
  let sent = 0;
  const streamed = await app.request("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: new ReadableStream({
      pull(c) {
        if (sent > MAX_REQUEST_BODY_BYTES) return c.close();
        sent += chunk.length;
        c.enqueue(chunk);
      },
    }),
    // @ts-ignore: `duplex` is required for a streamed body but missing from the DOM typings
    duplex: "half",
  });
  assert.equal(streamed.status, 413);
  assert.equal((await streamed.json()).errors[0].extensions.code, "REQUEST_ENTITY_TOO_LARGE");
});
