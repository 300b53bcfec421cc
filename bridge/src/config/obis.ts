// OBIS codes as written by people ("1-0:32.7.0", "1-1:32.7.0*255", "1.0.32.7.0.255", "1.0.32.7.0") normalised to
// the dotted six-group form used in RegisterSpec.obis.

/** "1.0.32.7.0.255", or throws an Error saying what is wrong with `text`. */
export function normalizeObis(text: string): string {
  const groups = text.trim().split(/[-:.*]/);
  if (groups.length === 5) groups.push("255"); // the F group is 255 ("current value") when omitted
  if (groups.length !== 6 || groups.some((group) => !/^\d{1,3}$/.test(group) || Number(group) > 255)) {
    throw new Error(`OBIS code '${text}' is not of the form A-B:C.D.E[*F] or A.B.C.D.E[.F] with groups 0..255`);
  }
  return groups.map(Number).join(".");
}
