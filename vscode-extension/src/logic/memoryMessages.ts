/** What the memory and compaction commands tell the user when they finish. Pure. */

import type { MemoryConsolidateResult, MemoryExtractResult } from '../protocol';

export function extractMessage(result: MemoryExtractResult): string {
  if (!result.extracted) {
    return 'Nothing new to extract: memory already covers this conversation.';
  }
  const [first, last] = result.source.range;
  const span = first === last ? `entry ${first}` : `entries ${first}–${last}`;
  return result.stagingId === undefined
    ? `Read ${span} of this conversation; nothing in it was worth remembering.`
    : `Extracted ${span} of this conversation; it waits to be consolidated into memory.`;
}

export function consolidateMessage(result: MemoryConsolidateResult): string {
  if (result.consumed.length === 0) {
    return result.report.trim() !== '' ? result.report.trim() : 'Nothing was waiting to be consolidated.';
  }
  const what = result.consumed.length === 1 ? '1 extraction' : `${result.consumed.length} extractions`;
  const report = result.report.trim();
  return report === '' ? `Consolidated ${what} into memory.` : `Consolidated ${what} into memory: ${report}`;
}
