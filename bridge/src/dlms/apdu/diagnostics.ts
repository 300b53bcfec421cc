// Names for the numeric diagnostics peers send back (62056-5-3 / ISO 8650 ACSE), so errors and traces say
// "authentication-failure" rather than "13". Unknown codes get "unknown-<n>" rather than failing: a meter may
// use a newer or vendor code, and the number is still shown next to the name.
import type { AssociationResult } from "./types.js";

function lookup(names: readonly (string | undefined)[], code: number): string {
  return names[code] ?? `unknown-${code}`;
}

export const ASSOCIATION_RESULTS: readonly AssociationResult[] = [
  "accepted",
  "rejected-permanent",
  "rejected-transient",
];

/** acse-service-user diagnostics (result-source-diagnostic [1]). */
const ACSE_USER_DIAGNOSTICS: (string | undefined)[] = [
  "null",
  "no-reason-given",
  "application-context-name-not-supported",
  "calling-AP-title-not-recognized",
  "calling-AP-invocation-identifier-not-recognized",
  "calling-AE-qualifier-not-recognized",
  "calling-AE-invocation-identifier-not-recognized",
  "called-AP-title-not-recognized",
  "called-AP-invocation-identifier-not-recognized",
  "called-AE-qualifier-not-recognized",
  "called-AE-invocation-identifier-not-recognized",
  "authentication-mechanism-name-not-recognised",
  "authentication-mechanism-name-required",
  "authentication-failure",
  "authentication-required",
];

/** acse-service-provider diagnostics (result-source-diagnostic [2]). */
const ACSE_PROVIDER_DIAGNOSTICS = ["null", "no-reason-given", "no-common-acse-version"];

export function acseDiagnosticName(source: "user" | "provider", code: number): string {
  return lookup(source === "user" ? ACSE_USER_DIAGNOSTICS : ACSE_PROVIDER_DIAGNOSTICS, code);
}

/** The user diagnostic code for a name (for the simulator building a rejecting AARE). */
export const AcseUserDiagnostic = Object.freeze(
  Object.fromEntries(ACSE_USER_DIAGNOSTICS.map((name, code) => [name, code])) as Record<string, number>,
);

// ExceptionResponse (tag 0xD8).
const EXCEPTION_STATE_ERRORS = [undefined, "service-not-allowed", "service-unknown"];
const EXCEPTION_SERVICE_ERRORS = [
  undefined,
  "operation-not-possible",
  "service-not-supported",
  "other-reason",
  "pdu-too-long",
  "deciphering-error",
  "invocation-counter-error",
];
/** The service-error that is followed by the expected invocation counter (double-long-unsigned). */
export const INVOCATION_COUNTER_ERROR = 6;

export function exceptionStateErrorName(code: number): string {
  return lookup(EXCEPTION_STATE_ERRORS, code);
}
export function exceptionServiceErrorName(code: number): string {
  return lookup(EXCEPTION_SERVICE_ERRORS, code);
}

// ConfirmedServiceError (tag 0x0E): which service failed, then ServiceError CHOICE (class) and its ENUMERATED code.
const CONFIRMED_SERVICES = [
  undefined,
  "initiateError",
  "getStatus",
  "getNameList",
  "getVariableAttribute",
  "read",
  "write",
  "getDataSetAttribute",
  "getTIAttribute",
  "changeScope",
  "start",
  "stop",
  "resume",
  "makeUsable",
  "initiateLoad",
  "loadSegment",
  "terminateLoad",
  "initiateUpLoad",
  "upLoadSegment",
  "terminateUpLoad",
];

const SERVICE_ERROR_CLASSES: { name: string; codes: string[] }[] = [
  {
    name: "application-reference",
    codes: [
      "other",
      "time-elapsed",
      "application-unreachable",
      "application-reference-invalid",
      "application-context-unsupported",
      "provider-communication-error",
      "deciphering-error",
    ],
  },
  {
    name: "hardware-resource",
    codes: [
      "other",
      "memory-unavailable",
      "processor-resource-unavailable",
      "mass-storage-unavailable",
      "other-resource-unavailable",
    ],
  },
  {
    name: "vde-state-error",
    codes: ["other", "no-dlms-context", "loading-data-set", "status-nochange", "status-inoperable"],
  },
  { name: "service", codes: ["other", "pdu-size", "service-unsupported"] },
  {
    name: "definition",
    codes: ["other", "object-undefined", "object-class-inconsistent", "object-attribute-inconsistent"],
  },
  {
    name: "access",
    codes: ["other", "scope-of-access-violated", "object-access-violated", "hardware-fault", "object-unavailable"],
  },
  {
    name: "initiate",
    codes: [
      "other",
      "dlms-version-too-low",
      "incompatible-conformance",
      "pdu-size-too-short",
      "refused-by-the-VDE-Handler",
    ],
  },
  {
    name: "load-data-set",
    codes: [
      "other",
      "primitive-out-of-sequence",
      "not-loadable",
      "dataset-size-too-large",
      "not-awaited-segment",
      "interpretation-failure",
      "storage-failure",
      "data-set-not-ready",
    ],
  },
  { name: "change-scope", codes: ["other"] },
  { name: "task", codes: ["other", "no-remote-control", "ti-stopped", "ti-running", "ti-unusable"] },
  { name: "other", codes: ["other"] },
];

/** ServiceError CHOICE index of the "initiate" class, used in an AARE rejecting the InitiateRequest. */
export const SERVICE_ERROR_INITIATE = 6;

export function confirmedServiceName(service: number): string {
  return lookup(CONFIRMED_SERVICES, service);
}
export function serviceErrorClassName(errorClass: number): string {
  return SERVICE_ERROR_CLASSES[errorClass]?.name ?? `unknown-${errorClass}`;
}
export function serviceErrorName(errorClass: number, code: number): string {
  const cls = SERVICE_ERROR_CLASSES[errorClass];
  return cls ? lookup(cls.codes, code) : `unknown-${code}`;
}
