export { DatabaseError, type Db, openDatabase } from "./db.js";
export { listEvents, type MeterEvent, pruneEvents, recordEvent, schedulePruning } from "./events.js";
export {
  listStoredMeters,
  type MeterStateUpdate,
  type StoredMeter,
  saveMeterConfigs,
  saveMeterState,
  saveMeterStates,
} from "./meters.js";
export type { DatabaseSchema } from "./schema.js";
