/** Digits of the called number: `sip:+18005550100@sip.example;user=phone` → `18005550100`. */
export function normalizeNumber(to: string): string {
  let s = to.trim().replace(/^(sips?|tel):/i, '');
  s = s.split('@')[0]!.split(';')[0]!;
  return s.replace(/[^0-9]/g, '');
}
