/**
 * The renderers a connection's report can be turned into on the report thread, by name (a
 * function cannot be sent to a worker): one string per connection, as the formats that write
 * connections one after another make them.
 */
import type { ConnectionReport } from '../analysis/model.js';
import { csvRow } from './csv.js';
import { jsonConnection } from './json.js';
import { textConnection } from './text.js';

export type RowFormat = { format: 'csv' } | { format: 'json' } | { format: 'jsonl' } | { format: 'text'; color: boolean };

export function rowRenderer(spec: RowFormat): (c: ConnectionReport) => string {
  switch (spec.format) {
    case 'csv':
      return csvRow;
    case 'json':
      return jsonConnection;
    case 'jsonl':
      return (c) => JSON.stringify(c);
    case 'text':
      return textConnection({ color: spec.color });
  }
}

/** Does the format list each connection's probes (so their records must be kept and handed over)? */
export function rowsListProbes(spec: RowFormat): boolean {
  return spec.format !== 'csv';
}
