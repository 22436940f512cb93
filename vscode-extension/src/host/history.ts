/**
 * A chat's history from `yoi/pod/history`, a page at a time (the latest
 * first), with the images' data for thumbnails, as the actions that show it.
 */

import type { ChatAction } from '../logic/chatState';
import { withImageData } from '../logic/images';
import { Method, type HistoryResult, type ImageGetParams, type ImageGetResult, type PodHistoryParams } from '../protocol';
import type { ServerController } from './server';

/** History items per page: a restored chat shows the latest page, older ones as the user scrolls up. */
export const HISTORY_PAGE = 200;

export class HistoryReader {
  constructor(private readonly server: ServerController) {}

  /** The latest page, as a `history` action (with the pod's sub-agents), and the result it came from. */
  async latest(podId: string): Promise<{ result: HistoryResult; action: ChatAction }> {
    const params: PodHistoryParams = { podId, limit: HISTORY_PAGE };
    const result = await this.server.request<HistoryResult>(Method.podHistory, params);
    const action: ChatAction = {
      kind: 'history',
      items: await withImageData(result.items, this.imageData),
      ...(result.start === undefined ? {} : { start: result.start }),
      ...(result.subAgents === undefined ? {} : { subAgents: result.subAgents }),
    };
    return { result, action };
  }

  /** The page before item `before`, as an `older` action; undefined when the pod's session is no longer `sessionId`. */
  async before(podId: string, before: number, sessionId: string | undefined): Promise<ChatAction | undefined> {
    const params: PodHistoryParams = { podId, limit: HISTORY_PAGE, before };
    const page = await this.server.request<HistoryResult>(Method.podHistory, params);
    if (page.start === undefined || page.sessionId !== sessionId) {
      return undefined;
    }
    return { kind: 'older', items: await withImageData(page.items, this.imageData), start: page.start };
  }

  /** A stored image's data URL (for thumbnails after a reload), or undefined. */
  private readonly imageData = (sha256: string): Promise<string | undefined> =>
    this.server.request<ImageGetResult>(Method.imageGet, { sha256 } satisfies ImageGetParams).then(
      (result) => result.dataUrl,
      () => undefined,
    );
}
