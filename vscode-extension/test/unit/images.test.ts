import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageName, imageProblem, imageSegments, MAX_IMAGE_BYTES, thumbnail } from '../../src/logic/images';
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
