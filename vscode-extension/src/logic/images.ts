/**
 * Images the user pastes or drops into the chat box: which are accepted (the
 * types and size the server takes, checked here so the chip can say so at
 * once) and the `image` segments they are sent as. Pure.
 */

import type { HistoryItem, Segment } from '../protocol';

/** As the server: 5 MB once decoded. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const IMAGE_TYPES: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** An image waiting in the chat box: its name and its data URL. */
export interface PendingImage {
  name: string;
  data: string;
  size: number;
}

/** Why an image cannot be sent, or undefined when it can. */
export function imageProblem(name: string, type: string, size: number): string | undefined {
  if (IMAGE_TYPES[type] === undefined) {
    return `${name} is not a PNG, JPEG, GIF or WebP image`;
  }
  if (size > MAX_IMAGE_BYTES) {
    return `${name} is ${(size / 1024 / 1024).toFixed(1)} MB; images are limited to 5 MB`;
  }
  return undefined;
}

/** The name of a pasted image without one (screenshots arrive as `image.png`). */
export function imageName(name: string, type: string, index: number): string {
  if (name !== '' && name !== 'image.png') {
    return name;
  }
  return `pasted image ${index}.${IMAGE_TYPES[type] ?? 'png'}`;
}

/** The `image` segments for the pending images, in order. */
export function imageSegments(images: readonly PendingImage[]): Segment[] {
  return images.map((image) => ({ kind: 'image', data: image.data, name: image.name }));
}

/** After a reload, thumbnails for at most this many images of this size, the newest first. */
export const RESTORED_IMAGES = 20;
export const RESTORED_IMAGE_BYTES = 2 * 1024 * 1024;

/**
 * History items with their user images' data filled in (from `yoi/image/get`
 * through `fetch`), so the chat shows their thumbnails again after a reload.
 * An image that cannot be fetched keeps its chip without a thumbnail.
 */
export async function withImageData(items: HistoryItem[], fetch: (sha256: string) => Promise<string | undefined>): Promise<HistoryItem[]> {
  const wanted: string[] = [];
  for (const item of [...items].reverse()) {
    for (const segment of item.kind === 'message' ? (item.segments ?? []) : []) {
      const small = segment.kind === 'image' && (segment.size ?? Infinity) <= RESTORED_IMAGE_BYTES;
      if (small && segment.data === undefined && segment.sha256 !== undefined && !wanted.includes(segment.sha256) && wanted.length < RESTORED_IMAGES) {
        wanted.push(segment.sha256);
      }
    }
  }
  if (wanted.length === 0) {
    return items;
  }
  const found = new Map<string, string>();
  await Promise.all(
    wanted.map(async (sha) => {
      const url = await fetch(sha);
      if (url !== undefined) {
        found.set(sha, url);
      }
    }),
  );
  return items.map((item) => {
    if (item.kind !== 'message' || item.segments === undefined) {
      return item;
    }
    const segments = item.segments.map((s): Segment => {
      if (s.kind !== 'image' || s.sha256 === undefined) {
        return s;
      }
      const data = found.get(s.sha256);
      return data === undefined ? s : { ...s, data };
    });
    return { ...item, segments };
  });
}

/** Whether a segment's image can be shown as a thumbnail (a data URL of an image). */
export function thumbnail(segment: Segment): string | undefined {
  return segment.kind === 'image' && segment.data !== undefined && /^data:image\/(png|jpeg|gif|webp);base64,/.test(segment.data) ? segment.data : undefined;
}
