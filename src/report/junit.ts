/**
 * JUnit XML for CI test reporters: one testsuite for the files checked together, one testcase
 * per connection and expectation; a failure carries the observed values, and an expectation the
 * capture cannot show is skipped (a failure under --strict).
 */
import { DEFAULT_TOLERANCE, effectiveStatus, expectationText, type CheckOutcome, type Expectations } from './check.js';

export function escapeXml(s: string): string {
  // XML 1.0 forbids most control characters even escaped; a file name could hold one.
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function renderJunit(outcome: CheckOutcome, e: Expectations, files: string[], timestamp = new Date()): string {
  const tol = e.tolerance ?? DEFAULT_TOLERANCE;
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const r of outcome.results) {
    const status = effectiveStatus(r, e.strict);
    const classname = `keepalive.${r.connection.client} -> ${r.connection.server}`;
    const name = `${r.side ?? 'either side'} ${expectationText(r, tol)}`;
    const open = `    <testcase classname="${escapeXml(classname)}" name="${escapeXml(name)}" time="0"`;
    if (status === 'pass') {
      cases.push(`${open}/>`);
    } else if (status === 'fail') {
      failures++;
      const type = r.status === 'na' ? 'not-observable' : r.expectation;
      cases.push(`${open}>\n      <failure message="${escapeXml(r.message)}" type="${escapeXml(type)}">${escapeXml(`${r.connection.client} -> ${r.connection.server}: ${r.side ?? 'either side'} ${r.expectation}: ${r.message}`)}</failure>\n    </testcase>`);
    } else {
      skipped++;
      cases.push(`${open}>\n      <skipped message="${escapeXml(r.message)}"/>\n    </testcase>`);
    }
  }
  if (outcome.reason !== null) {
    failures++;
    cases.push(
      `    <testcase classname="keepalive" name="connection selection" time="0">\n      <failure message="${escapeXml(outcome.reason)}" type="selection">${escapeXml(outcome.reason)}</failure>\n    </testcase>`,
    );
  }
  const tests = cases.length;
  const suiteName = `keepalive check: ${files.join(', ')}`;
  const props = [
    ['expect-idle', e.idle],
    ['expect-interval', e.interval],
    ['expect-count', e.count],
    ['expect-user-timeout', e.userTimeout],
    ['side', e.side ?? 'any'],
    ['tolerance', 'relative' in tol ? `${tol.relative * 100}%` : `${tol.absolute}s`],
    ['strict', e.strict ? 'true' : 'false'],
  ]
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `      <property name="${k}" value="${escapeXml(String(v))}"/>`);
  const stamp = timestamp.toISOString().slice(0, 19);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="keepalive check" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="0">`,
    `  <testsuite name="${escapeXml(suiteName)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="0" timestamp="${stamp}">`,
    '    <properties>',
    ...props,
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
