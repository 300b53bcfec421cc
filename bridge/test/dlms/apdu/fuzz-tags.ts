// First bytes worth aiming random bodies at: every implemented tag plus a few known-unimplemented ones.
import { ApduTag } from "../../../src/dlms/apdu/types.js";

export const ApduTagsForFuzzing: number[] = [...Object.values(ApduTag), 0xc8, 0xdb, 0x21];
