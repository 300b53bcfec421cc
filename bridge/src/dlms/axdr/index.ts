// A-XDR codec of COSEM data (IEC 62056-6-2): the values every GET/SET/ACTION carries.

export { MAX_VALUES, type ValueBudget, valueBudget } from "./budget.js";
export { decodeData, decodeDataLenient, readData } from "./decode.js";
export { MAX_DEPTH } from "./depth.js";
export { encodeData, writeData } from "./encode.js";
export { MAX_LENGTH, readLength, writeLength } from "./length.js";
export type { SimpleTypeName } from "./simple.js";
export { MAX_COMPACT_VALUES, minEncodedSize, readTypeDescription, writeTypeDescription } from "./type-description.js";
export { DataTag, type DataTypeName, type DlmsData, type TypeDescription } from "./types.js";
