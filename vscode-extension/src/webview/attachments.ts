/**
 * The images waiting in the chat box: pasted or dropped image files become
 * chips with a thumbnail (× removes one) and go with the next message as
 * `image` segments. A file that is not an image of a supported type, or too
 * large, is refused at once with a line saying why.
 */

import { imageName, imageProblem, type PendingImage } from '../logic/images';
import { h, icon } from './dom';

function readDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : '');
    reader.onerror = () => reject(reader.error ?? new Error(`cannot read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

/** The image files among a paste's or a drop's files. */
export function imageFiles(data: DataTransfer | null): File[] {
  return [...(data?.files ?? [])].filter((file) => file.type.startsWith('image/'));
}

export class Attachments {
  images: PendingImage[] = [];
  private problem = '';
  private count = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly changed: () => void,
  ) {
    root.addEventListener('click', (e) => {
      const remove = (e.target as HTMLElement).closest<HTMLElement>('[data-remove-image]');
      if (remove !== null) {
        this.images = this.images.filter((_, i) => String(i) !== remove.dataset['removeImage']);
        this.problem = '';
        this.render();
        this.changed();
      }
    });
  }

  async add(files: File[]): Promise<void> {
    this.problem = '';
    for (const file of files) {
      this.count += 1;
      const name = imageName(file.name, file.type, this.count);
      const problem = imageProblem(name, file.type, file.size);
      if (problem !== undefined) {
        this.problem = problem;
        continue;
      }
      this.images = [...this.images, { name, data: await readDataUrl(file), size: file.size }];
    }
    this.render();
    this.changed();
  }

  restore(images: PendingImage[]): void {
    this.images = images;
    this.render();
  }

  clear(): void {
    this.images = [];
    this.problem = '';
    this.render();
  }

  render(): void {
    this.root.hidden = this.images.length === 0 && this.problem === '';
    this.root.replaceChildren(
      ...this.images.map((image, i) =>
        h(
          'span',
          { class: 'attachment', title: `${image.name} (${Math.ceil(image.size / 1024)} KB)` },
          h('img', { class: 'attachment-thumb', src: image.data, alt: '' }),
          h('span', { class: 'attachment-name' }, image.name),
          h('button', { type: 'button', class: 'icon-button', 'aria-label': `Remove ${image.name}`, 'data-remove-image': String(i) }, icon('close')),
        ),
      ),
      this.problem === '' ? '' : h('div', { class: 'attachment-problem', role: 'alert' }, icon('warning'), this.problem),
    );
  }
}
