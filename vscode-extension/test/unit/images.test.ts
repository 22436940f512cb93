import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageName, imageProblem, imageSegments, MAX_IMAGE_BYTES, RESTORED_IMAGE_BYTES, thumbnail, withImageData } from '../../src/logic/images';
import { segmentLabel } from '../../src/logic/mentions';

test('PNG, JPEG, GIF and WebP up to 5 MB are accepted; anything else says why', () => {
  for (const type of ['image/png', 'image/jpeg', 'image/gif', 'image/webp']) {
    assert.equal(imageProblem('a', type, MAX_IMAGE_BYTES), undefined);
  }
  assert.equal(imageProblem('shot.bmp', 'image/bmp', 10), 'shot.bmp is not a PNG, JPEG, GIF or WebP image');
  assert.equal(imageProblem('big.png', 'image/png', MAX_IMAGE_BYTES + 1), 'big.png is 5.0 MB; images are limited to 5 MB');
});

test('a pasted screenshot gets a name; a dropped file keeps its own', () => {
  assert.equal(imageName('image.png', 'image/png', 2), 'pasted image 2.png');
  assert.equal(imageName('', 'image/jpeg', 1), 'pasted image 1.jpg');
  assert.equal(imageName('error.webp', 'image/webp', 3), 'error.webp');
});

test('pending images become image segments that read as [image: name]', () => {
  const data = 'data:image/png;base64,iVBORw0KGgo=';
  const segment = imageSegments([{ name: 'shot.png', data, size: 8 }])[0] ?? assert.fail('no segment');
  assert.deepEqual(segment, { kind: 'image', data, name: 'shot.png' });
  assert.equal(segmentLabel(segment), '[image: shot.png]');
  assert.equal(thumbnail(segment), data);
  // as history returns it: no data, so no thumbnail
  assert.equal(thumbnail({ kind: 'image', name: 'shot.png', mime: 'image/png', size: 8, sha256: 'ab' }), undefined);
  assert.equal(thumbnail({ kind: 'image', data: 'data:text/html;base64,PGI+' }), undefined);
});

test('after a reload, the images of the history get their data back for thumbnails (small ones, once each)', async () => {
  const png = (sha: string, size = 10): { kind: 'image'; name: string; mime: string; size: number; sha256: string } => ({ kind: 'image', name: `${sha}.png`, mime: 'image/png', size, sha256: sha });
  const items = [
    { kind: 'message' as const, role: 'user' as const, text: 'one', segments: [{ kind: 'text' as const, text: 'one' }, png('a'), png('big', RESTORED_IMAGE_BYTES + 1)] },
    { kind: 'message' as const, role: 'assistant' as const, text: 'seen' },
    { kind: 'message' as const, role: 'user' as const, text: 'two', segments: [png('a'), png('gone')] },
  ];
  const asked: string[] = [];
  const restored = await withImageData(items, (sha) => {
    asked.push(sha);
    return Promise.resolve(sha === 'gone' ? undefined : `data:image/png;base64,${sha}`);
  });
  assert.deepEqual(asked.sort(), ['a', 'gone'], 'each small image once; not the large one');
  assert.deepEqual(restored[0], { ...items[0], segments: [{ kind: 'text', text: 'one' }, { ...png('a'), data: 'data:image/png;base64,a' }, png('big', RESTORED_IMAGE_BYTES + 1)] });
  assert.equal(restored[1], items[1]);
  assert.deepEqual(restored[2], { ...items[2], segments: [{ ...png('a'), data: 'data:image/png;base64,a' }, png('gone')] });
  // without images, nothing is asked and the same list comes back
  const plain = [{ kind: 'message' as const, role: 'assistant' as const, text: 'seen' }];
  assert.equal(await withImageData(plain, () => Promise.reject(new Error('not asked'))), plain);
});
