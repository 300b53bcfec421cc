// Load-profile rows on dlms/<meter>/profile: a JSON array of {"meter","ts","values":{...}} objects, oldest first.
// The gateway's JSON converter turns such an array into one message with one timestamp per row
// (/work/shared/docs/thingsboard-gateway-facts.md), so each row lands in ThingsBoard at the meter's own time, and a
// row delivered twice carries the same ts (ThingsBoard keeps one value per key and ts).

export interface ProfileRowMessage {
  ts: number;
  values: Record<string, number>;
}

export { profileTopic } from "./payloads.js";

/** Throws (naming meter, ts and key) for a value JSON cannot carry. */
export function profilePayload(meter: string, rows: readonly ProfileRowMessage[]): string {
  return JSON.stringify(
    rows.map((row) => {
      if (!Number.isFinite(row.ts)) throw new Error(`profile row of meter '${meter}': ts is not a number`);
      for (const [key, value] of Object.entries(row.values)) {
        if (!Number.isFinite(value)) {
          throw new Error(`profile row of meter '${meter}' at ${row.ts}: '${key}' is not a finite number`);
        }
      }
      return { meter, ts: row.ts, values: row.values };
    }),
  );
}
