/**
 * What the page is told about a finished tool call. Tool output is personal data (names, items, tracking
 * numbers) the model needs and the page does not: the page gets which fields came back, never their values.
 */
const MAX_FIELDS = 8;

export function summarizeToolOutput(tool: string, output: string, isError: boolean): string {
  if (isError) return `${tool} did not return a result`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return `${tool} returned text (${output.length} characters)`;
  }
  if (Array.isArray(parsed)) return `${tool} returned ${parsed.length} item${parsed.length === 1 ? '' : 's'}`;
  if (parsed && typeof parsed === 'object') {
    const keys = Object.keys(parsed);
    const shown = keys.slice(0, MAX_FIELDS).join(', ');
    return `${tool} returned ${keys.length ? shown : 'no fields'}${keys.length > MAX_FIELDS ? ', …' : ''}`;
  }
  return `${tool} returned a ${typeof parsed}`;
}
