// COSEM interface classes (IEC 62056-6-2) as data: class id, version, attribute and method ids by name.
// Only the classes the bridge reads are described in full; the rest are named for object lists and logs.

export const InterfaceClass = {
  data: {
    classId: 1,
    name: "Data",
    version: 0,
    attributes: { logical_name: 1, value: 2 },
    methods: {},
  },
  register: {
    classId: 3,
    name: "Register",
    version: 0,
    attributes: { logical_name: 1, value: 2, scaler_unit: 3 },
    methods: { reset: 1 },
  },
  extendedRegister: {
    classId: 4,
    name: "Extended Register",
    version: 0,
    attributes: { logical_name: 1, value: 2, scaler_unit: 3, status: 4, capture_time: 5 },
    methods: { reset: 1 },
  },
  demandRegister: {
    classId: 5,
    name: "Demand Register",
    version: 0,
    attributes: {
      logical_name: 1,
      current_average_value: 2,
      last_average_value: 3,
      scaler_unit: 4,
      status: 5,
      capture_time: 6,
      start_time_current: 7,
      period: 8,
      number_of_periods: 9,
    },
    methods: { reset: 1, next_period: 2 },
  },
  profileGeneric: {
    classId: 7,
    name: "Profile Generic",
    version: 1,
    attributes: {
      logical_name: 1,
      buffer: 2,
      capture_objects: 3,
      capture_period: 4,
      sort_method: 5,
      sort_object: 6,
      entries_in_use: 7,
      profile_entries: 8,
    },
    methods: { reset: 1, capture: 2 },
  },
  clock: {
    classId: 8,
    name: "Clock",
    version: 0,
    attributes: {
      logical_name: 1,
      time: 2,
      time_zone: 3,
      status: 4,
      daylight_savings_begin: 5,
      daylight_savings_end: 6,
      daylight_savings_deviation: 7,
      daylight_savings_enabled: 8,
      clock_base: 9,
    },
    methods: {
      adjust_to_quarter: 1,
      adjust_to_measuring_period: 2,
      adjust_to_minute: 3,
      adjust_to_preset_time: 4,
      preset_adjusting_time: 5,
      shift_time: 6,
    },
  },
  associationLn: {
    classId: 15,
    name: "Association LN",
    version: 2,
    attributes: {
      logical_name: 1,
      object_list: 2,
      associated_partners_id: 3,
      application_context_name: 4,
      xdlms_context_info: 5,
      authentication_mechanism_name: 6,
      secret: 7,
      association_status: 8,
      security_setup_reference: 9,
      user_list: 10,
      current_user: 11,
    },
    methods: {
      reply_to_hls_authentication: 1,
      change_hls_secret: 2,
      add_object: 3,
      remove_object: 4,
      add_user: 5,
      remove_user: 6,
    },
  },
} as const;

export type InterfaceClassKey = keyof typeof InterfaceClass;

/** Names of other classes that appear in object lists. */
const OTHER_CLASS_NAMES: Readonly<Record<number, string>> = {
  6: "Register Activation",
  9: "Script Table",
  10: "Schedule",
  11: "Special Days Table",
  12: "Association SN",
  17: "SAP Assignment",
  18: "Image Transfer",
  19: "IEC Local Port Setup",
  20: "Activity Calendar",
  21: "Register Monitor",
  22: "Single Action Schedule",
  23: "IEC HDLC Setup",
  24: "IEC Twisted Pair Setup",
  25: "M-Bus Port Setup",
  26: "Utility Tables",
  27: "Modem Configuration",
  28: "Auto Answer",
  29: "Auto Connect",
  30: "Data Protection",
  40: "Push Setup",
  41: "TCP-UDP Setup",
  42: "IPv4 Setup",
  43: "MAC Address Setup",
  44: "PPP Setup",
  45: "GPRS Modem Setup",
  46: "SMTP Setup",
  47: "GSM Diagnostic",
  48: "IPv6 Setup",
  61: "Register Table",
  62: "Compact Data",
  63: "Status Mapping",
  64: "Security Setup",
  65: "Parameter Monitor",
  67: "Sensor Manager",
  68: "Arbitrator",
  70: "Disconnect Control",
  71: "Limiter",
  72: "M-Bus Client",
  111: "Account",
  112: "Credit",
  113: "Charge",
  115: "Token Gateway",
};

const BY_ID = new Map<number, (typeof InterfaceClass)[InterfaceClassKey]>(
  Object.values(InterfaceClass).map((ic) => [ic.classId, ic]),
);

/** "Register", "Security Setup", or "class 99" for an id we do not know. */
export function className(classId: number): string {
  return BY_ID.get(classId)?.name ?? OTHER_CLASS_NAMES[classId] ?? `class ${classId}`;
}

/** Attribute name of a fully described class ("scaler_unit" for 3/3), else undefined. */
export function attributeName(classId: number, attributeId: number): string | undefined {
  const ic = BY_ID.get(classId);
  if (!ic) return undefined;
  return Object.entries(ic.attributes).find(([, id]) => id === attributeId)?.[0];
}

/** Method name of a fully described class ("reset" for 3/1), else undefined. */
export function methodName(classId: number, methodId: number): string | undefined {
  const ic = BY_ID.get(classId);
  if (!ic) return undefined;
  return Object.entries(ic.methods as Record<string, number>).find(([, id]) => id === methodId)?.[0];
}
