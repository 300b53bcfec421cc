// Whatever Data a meter sends, the COSEM decoders either understand it or raise a DecodeError; display never throws.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DlmsData } from "../../../src/dlms/axdr/types.js";
import { decodeObjectList, encodeObjectList, type ObjectListEntry } from "../../../src/dlms/cosem/association-ln.js";
import { dateTimeFromData, dateTimeToEpochMs, dateTimeToIso } from "../../../src/dlms/cosem/datetime.js";
import { dataToJson } from "../../../src/dlms/cosem/display.js";
import { decodeBuffer, decodeCaptureObjects } from "../../../src/dlms/cosem/profile-generic.js";
import { decodeScalerUnit } from "../../../src/dlms/cosem/scaler.js";
import { DecodeError } from "../../../src/dlms/errors.js";
import { dlmsData } from "../axdr/arbitrary.js";

function onlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

describe("COSEM decoders on arbitrary data", () => {
  it("raise nothing but DecodeError", () => {
    fc.assert(
      fc.property(dlmsData, (d) => {
        onlyDecodeErrors(() => decodeObjectList(d));
        onlyDecodeErrors(() => decodeCaptureObjects(d));
        onlyDecodeErrors(() => decodeBuffer(d, []));
        onlyDecodeErrors(() => decodeScalerUnit(d));
        onlyDecodeErrors(() => {
          const dt = dateTimeFromData(d);
          if (dt) {
            dateTimeToIso(dt);
            dateTimeToEpochMs(dt);
          }
        });
        JSON.stringify(dataToJson(d));
      }),
      { numRuns: 1000 },
    );
  });

  it("object lists round-trip through encode/decode", () => {
    const id = fc.integer({ min: -128, max: 127 });
    const entry: fc.Arbitrary<ObjectListEntry> = fc.record({
      classId: fc.integer({ min: 0, max: 0xffff }),
      version: fc.integer({ min: 0, max: 255 }),
      obis: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((g) => g.join(".")),
      attributes: fc.array(
        fc.record(
          { id, access: fc.integer({ min: 0, max: 6 }), selectors: fc.array(id, { maxLength: 3 }) },
          { requiredKeys: ["id", "access"] },
        ),
        { maxLength: 4 },
      ),
      methods: fc.array(fc.record({ id, access: fc.integer({ min: 0, max: 2 }) }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), (list) => {
        const data: DlmsData = encodeObjectList(list);
        expect(decodeObjectList(data)).toEqual(list);
      }),
      { numRuns: 200 },
    );
  });
});
