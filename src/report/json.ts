import type { ConnectionReport, Report, Summary } from '../analysis/model.js';

/** The version-1 JSON report (README: "JSON report"). */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * One connection as it stands in renderJson's `connections` array (indented for its place there),
 * made as the connection ends so that a long capture's report waits as text (the command line).
 */
export function jsonConnection(c: ConnectionReport): string {
  // A JSON text holds no raw line break but its own: each starts a line to indent.
  return `    ${JSON.stringify(c, null, 2).replace(/\n/g, '\n    ')}`;
}

/** The head of renderJson's text, up to and including the opening of `connections` (then jsonTail). */
export function jsonHead(summary: Summary): string {
  return `{\n  "version": 1,\n  "summary": ${JSON.stringify(summary, null, 2).replace(/\n/g, '\n  ')},\n  "connections": [`;
}

/**
 * renderJson's text in pieces: jsonHead, the connections (jsonConnection) each after "\n" and
 * separated by ",", then this tail; an empty list is "[]".
 */
export function jsonTail(connections: number): string {
  return connections === 0 ? ']\n}\n' : '\n  ]\n}\n';
}
