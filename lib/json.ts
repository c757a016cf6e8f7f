/**
 * A parsed JSON object whose shape is not checked by a schema: code that reads a few fields from a
 * document it does not own (a report.json of any version, a CloudFormation template, an agent's
 * status line) narrows each field as it reads it.
 */
export type Json = Record<string, unknown>;

/** The value as a JSON object, or null when it is not one (null, an array, a string…). */
export function jsonObject(value: unknown): Json | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

/** The text parsed as a JSON object, or null when it is missing, not JSON, or not an object. */
export function parseJsonObject(text: string | null | undefined): Json | null {
  if (text === null || text === undefined) return null;
  try {
    return jsonObject(JSON.parse(text));
  } catch {
    return null;
  }
}
