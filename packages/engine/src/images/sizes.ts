import type { ImageRecord } from "../metadata";

/** diffId hex → how many images use the layer, and its size. */
export type LayerUsage = Map<string, { images: number; size: number }>;

export function layerUsage(images: readonly ImageRecord[]): LayerUsage {
  const usage: LayerUsage = new Map();
  for (const image of images) {
    for (const hex of new Set(image.layers.map((l) => l.diffId.hex))) {
      const layer = image.layers.find((l) => l.diffId.hex === hex);
      const entry = usage.get(hex) ?? { images: 0, size: layer?.size ?? 0 };
      entry.images++;
      usage.set(hex, entry);
    }
  }
  return usage;
}

/** docker's SharedSize (layers other images use too) and UniqueSize (the rest). */
export function sharedAndUnique(image: ImageRecord, usage: LayerUsage): { shared: number; unique: number } {
  let shared = 0;
  const seen = new Set<string>();
  for (const layer of image.layers) {
    if (seen.has(layer.diffId.hex)) continue;
    seen.add(layer.diffId.hex);
    if ((usage.get(layer.diffId.hex)?.images ?? 0) > 1) shared += layer.size;
  }
  return { shared, unique: image.size - shared };
}

/** Bytes of distinct layers (by diffId) across images: each shared layer counted once. */
export function distinctLayerBytes(images: readonly ImageRecord[]): number {
  const sizes = new Map<string, number>();
  for (const image of images) for (const layer of image.layers) sizes.set(layer.diffId.hex, layer.size);
  let total = 0;
  for (const size of sizes.values()) total += size;
  return total;
}
