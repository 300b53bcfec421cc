// COSEM application layer (IEC 62056-6-2): OBIS, units and scalers, date-time, interface classes, object lists.
export * from "./association-ln.js";
export * from "./datetime.js";
export * from "./display.js";
export * from "./interface-classes.js";
export * from "./obis.js";
export * from "./obis-names.js";
export * from "./profile-generic.js";
export * from "./scaler.js";
export * from "./units.js";
