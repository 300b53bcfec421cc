// Data-Access-Result ENUMERATED (62056-5-3): the per-attribute outcome of GET/SET.

export const DataAccessResult = {
  success: 0,
  "hardware-fault": 1,
  "temporary-failure": 2,
  "read-write-denied": 3,
  "object-undefined": 4,
  "object-class-inconsistent": 9,
  "object-unavailable": 11,
  "type-unmatched": 12,
  "scope-of-access-violated": 13,
  "data-block-unavailable": 14,
  "long-get-aborted": 15,
  "no-long-get-in-progress": 16,
  "long-set-aborted": 17,
  "no-long-set-in-progress": 18,
  "data-block-number-invalid": 19,
  "other-reason": 250,
} as const;

const namesByCode = new Map<number, string>(Object.entries(DataAccessResult).map(([name, code]) => [code, name]));

export function dataAccessResultName(code: number): string {
  return namesByCode.get(code) ?? `unknown-${code}`;
}
