// Row conversion of a profile read, against a scripted meter (DlmsClientApi fake returning a hand-built buffer):
// timestamps from the clock column with each row's own deviation, a compressed profile's null-data clock (previous
// row + capture period), a clock flagged invalid (no timestamp), unspecified seconds, and scalers per column.
import { describe, expect, it } from "vitest";
import { type ProfileInfo, readProfileRows } from "../../src/client/profile.js";
import type { DlmsClientApi } from "../../src/client/types.js";
import type { AttributeRequest } from "../../src/dlms/apdu/types.js";
import { encodeData } from "../../src/dlms/axdr/index.js";
import type { DlmsData } from "../../src/dlms/axdr/types.js";
import { fromHex } from "../../src/dlms/codec/hex.js";
import { encodeBuffer } from "../../src/dlms/cosem/profile-generic.js";

const info: ProfileInfo = {
  obis: "1.0.99.1.0.255",
  columns: [
    { capture: { classId: 8, obis: "0.0.1.0.0.255", attributeId: 2, dataIndex: 0 } },
    {
      capture: { classId: 3, obis: "1.0.1.8.0.255", attributeId: 2, dataIndex: 0 },
      scalerUnit: { scaler: 1, unitCode: 30, unit: "Wh" },
    },
    { capture: { classId: 1, obis: "0.0.96.10.1.255", attributeId: 2, dataIndex: 0 } }, // status word, unscaled
  ],
  clockColumn: 0,
  capturePeriodSeconds: 900,
};

const dt = (hex: string): DlmsData => ({ type: "octet-string", value: fromHex(hex) });
const u32 = (value: number): DlmsData => ({ type: "double-long-unsigned", value });
const status = (value: number): DlmsData => ({ type: "unsigned", value });

/** Serves the encoded buffer in 7-byte pieces, as blocks of a GET would arrive. */
function meter(buffer: DlmsData): DlmsClientApi & { requests: AttributeRequest[] } {
  const bytes = encodeData(buffer);
  const requests: AttributeRequest[] = [];
  const unused = () => Promise.reject(new Error("not used"));
  return {
    requests,
    connect: unused,
    get: unused,
    getMany: unused,
    release: unused,
    close: () => undefined,
    connected: true,
    association: undefined,
    async getStream(attribute, onBytes) {
      requests.push(attribute);
      for (let i = 0; i < bytes.length; i += 7) onBytes(bytes.subarray(i, i + 7));
    },
  };
}

describe("readProfileRows row conversion", () => {
  it("timestamps, compressed clocks, an invalid clock and scalers", async () => {
    const buffer = encodeBuffer([
      // 2026-12-01 10:00 local at UTC+01:00 (deviation -60 = FF C4), status 00
      [dt("07 EA 0C 01 02 0A 00 00 00 FF C4 00"), u32(100), status(0)],
      [{ type: "null-data" }, u32(101), status(0)], // compressed: 10:15
      [{ type: "null-data" }, u32(102), status(8)], // 10:30
      // seconds and hundredths "not specified" (FF), deviation not specified (80 00): the read's deviation applies
      [dt("07 EA 0C 01 02 0A 2D FF FF 80 00 00"), u32(103), status(0)],
      // clock status 0x01 = invalid: no timestamp, values still decoded
      [dt("07 EA 0C 01 02 0B 00 00 00 FF C4 01"), u32(104), status(1)],
      [{ type: "null-data" }, u32(105), status(0)], // after a row without time: none either
    ]);
    const client = meter(buffer);
    const rows = (await collect(client)).map((r) => ({ ts: r.ts, values: r.values }));
    const at = (h: number, m: number) => Date.UTC(2026, 11, 1, h, m);
    expect(rows).toEqual([
      { ts: at(9, 0), values: [undefined, 1000, 0] },
      { ts: at(9, 15), values: [undefined, 1010, 0] },
      { ts: at(9, 30), values: [undefined, 1020, 8] },
      { ts: at(9, 45), values: [undefined, 1030, 0] }, // 10:45 local, deviation -60 assumed
      { ts: undefined, values: [undefined, 1040, 1] },
      { ts: undefined, values: [undefined, 1050, 0] },
    ]);
    expect(client.requests[0]).toMatchObject({ classId: 7, attributeId: 2, access: { selector: 1 } });
  });

  it("fails naming the entry when a row has the wrong width", async () => {
    const client = meter(encodeBuffer([[dt("07 EA 0C 01 02 0A 00 00 00 FF C4 00"), u32(1)]]));
    await expect(collect(client)).rejects.toThrow(/buffer\[0\]: 2 value\(s\), expected 3/);
  });
});

async function collect(client: DlmsClientApi) {
  const rows: Awaited<Parameters<Parameters<typeof readProfileRows>[3]>[0]> = [];
  await readProfileRows(
    client,
    info,
    { kind: "range", fromMs: Date.UTC(2026, 11, 1), toMs: Date.UTC(2026, 11, 2) },
    (batch) => rows.push(...batch),
    { deviationMinutes: -60 },
  );
  return rows;
}
