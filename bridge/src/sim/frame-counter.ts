// The invocation counter object a meter publishes to the public client (IDIS-style 0.0.43.1.0.255, class 1 Data,
// value double-long-unsigned): the lowest invocation counter the meter accepts next from the management client,
// so a client that lost its own counter can start from it (`ic=auto`).
import type { GetDataResult, LogicalName, SelectiveAccess } from "../dlms/apdu/types.js";
import type { CosemObjectModel, ObjectListEntry } from "../dlms/server/object-model.js";

export const FRAME_COUNTER_OBIS = Uint8Array.of(0, 0, 43, 1, 0, 255);
const DATA_CLASS = 1;
const MANAGEMENT_CLIENT_SAP = 1;

export function withFrameCounter(
  model: CosemObjectModel,
  clientCounters: ReadonlyMap<number, number>,
): CosemObjectModel {
  const entry: ObjectListEntry = {
    classId: DATA_CLASS,
    version: 0,
    obis: "0.0.43.1.0.255",
    attributes: [
      { id: 1, access: 1 },
      { id: 2, access: 1 },
    ],
    methods: [],
  };
  const isCounter = (classId: number, ln: LogicalName) =>
    classId === DATA_CLASS && ln.length === 6 && ln.every((v, i) => v === FRAME_COUNTER_OBIS[i]);
  return {
    get(classId: number, ln: LogicalName, attributeId: number, access?: SelectiveAccess): GetDataResult {
      if (!isCounter(classId, ln)) return model.get(classId, ln, attributeId, access);
      if (attributeId === 1) return { ok: true, data: { type: "octet-string", value: FRAME_COUNTER_OBIS.slice() } };
      if (attributeId === 2) {
        const next = (clientCounters.get(MANAGEMENT_CLIENT_SAP) ?? 0) + 1;
        return { ok: true, data: { type: "double-long-unsigned", value: next } };
      }
      return { ok: false, error: 4 };
    },
    list: () => [...model.list(), entry],
  };
}
