// What a server association needs from the meter behind it: attribute values and the object list.
// The association owns the protocol (ACSE, GET, block transfer); the model owns the data.
import type { GetDataResult, LogicalName, SelectiveAccess } from "../apdu/types.js";
import type { ObjectListEntry } from "../cosem/association-ln.js";

export type { ObjectListEntry };

export interface CosemObjectModel {
  /**
   * Reads one attribute. An object the model does not have answers `object-undefined` (4); the association may
   * remap that (real meters often say read-write-denied). Must not throw for unknown objects or attributes.
   */
  get(classId: number, logicalName: LogicalName, attributeId: number, access?: SelectiveAccess): GetDataResult;
  /** The objects visible through the association, in the order object_list reports them. */
  list(): readonly ObjectListEntry[];
}
