import assert from "node:assert/strict";
import { GraphQLError } from "graphql";
import {
  DateScalar,
  DateTimeScalar,
  parseDate,
  parseDateTime,
  ScalarInputError,
} from "./scalars.ts";

function refuses(fn: () => unknown, includes: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ScalarInputError, `not a ScalarInputError: ${e}`);
    assert.ok(e.message.includes(includes), `${JSON.stringify(e.message)} lacks ${includes}`);
    return;
  }
  assert.fail(`accepted; expected an error mentioning ${includes}`);
}

Deno.test("DateTime accepts RFC 3339 with Z or an offset and answers in UTC", () => {
  assert.equal(parseDateTime("2026-11-20T05:00:00Z"), Date.UTC(2026, 10, 20, 5));
  assert.equal(parseDateTime("2026-11-20T07:30:00+02:30"), Date.UTC(2026, 10, 20, 5));
  assert.equal(parseDateTime("2026-11-20t05:00:00.123456z"), Date.UTC(2026, 10, 20, 5, 0, 0, 123));
  assert.equal(parseDateTime("2024-02-29T00:00:00-00:00"), Date.UTC(2024, 1, 29));
  assert.equal(
    DateTimeScalar.serialize(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
    "2026-01-02T03:04:05.006Z",
  );
});

Deno.test("DateTime refuses text that is not RFC 3339 and says why", () => {
  refuses(() => parseDateTime("2026-11-20"), "RFC 3339");
  refuses(() => parseDateTime("2026-11-20T05:00:00"), "has no offset");
  refuses(() => parseDateTime("2026-13-20T05:00:00Z"), "month 13");
  refuses(() => parseDateTime("2025-02-29T05:00:00Z"), "has no day 29");
  refuses(() => parseDateTime("2026-11-20T24:00:00Z"), "hour 24");
  refuses(() => parseDateTime("2026-11-20T05:60:00Z"), "minute 60");
  refuses(() => parseDateTime("2026-11-20T05:00:60Z"), "leap");
  refuses(() => parseDateTime("2026-11-20T05:00:00+24:00"), "offset");
  refuses(() => parseDateTime(1732079000000), "string");
  refuses(() => parseDateTime("yesterday"), '"yesterday"');
});

Deno.test("Date accepts real calendar dates only", () => {
  assert.equal(parseDate("2026-11-20"), Date.UTC(2026, 10, 20));
  assert.equal(DateScalar.serialize(Date.UTC(2026, 10, 20)), "2026-11-20");
  refuses(() => parseDate("2026-11-31"), "has no day 31");
  refuses(() => parseDate("2026-1-2"), "YYYY-MM-DD");
  refuses(() => parseDate("2026-11-20T00:00:00Z"), "YYYY-MM-DD");
  refuses(() => parseDate(20261120), "string");
});

Deno.test("variables get BAD_USER_INPUT GraphQL errors that survive graphql-js wrapping", () => {
  try {
    DateTimeScalar.parseValue("2026-11-20");
    assert.fail("accepted");
  } catch (e) {
    assert.ok(e instanceof GraphQLError);
    assert.equal(e.extensions.code, "BAD_USER_INPUT");
    assert.ok(e.originalError instanceof GraphQLError);
    assert.equal((e.originalError as GraphQLError).extensions.code, "BAD_USER_INPUT");
  }
});
