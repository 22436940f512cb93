/**
 * Images the user pastes or drops into the chat box: which are accepted (the
 * types and size the server takes, checked here so the chip can say so at
 * once) and the `image` segments they are sent as. Pure.
 */

import type { Segment } from '../protocol';

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

/** Whether a segment's image can be shown as a thumbnail (a data URL of an image). */
export function thumbnail(segment: Segment): string | undefined {
  return segment.kind === 'image' && segment.data !== undefined && /^data:image\/(png|jpeg|gif|webp);base64,/.test(segment.data) ? segment.data : undefined;
}
