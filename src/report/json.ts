import type { Report } from '../analysis/model.js';

/** The version-1 JSON report (README: "JSON report"). */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
