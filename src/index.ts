/** The library API: the same pipeline the CLI runs. */
export { Analysis, analyze, analyzeInOrder, analyzeToReport, selects, type AnalyzeOptions } from './analysis/analyze.js';
export type * from './analysis/model.js';
export { openCapture, readFrames, CaptureFile } from './capture/open.js';
export { CaptureError } from './capture/errors.js';
export type { Frame } from './capture/frame.js';
export { decodeFrame, DECODED_TCP, NOT_TCP, UNKNOWN_LINK_TYPE } from './decode/decode.js';
export { Segment, formatEndpoint } from './decode/segment.js';
export { renderJson } from './report/json.js';
export { renderText } from './report/text.js';
export { renderCsv, csvRow, CSV_COLUMNS, CSV_HEADER } from './report/csv.js';
export { renderMarkdown, renderCheckMarkdown } from './report/markdown.js';
export { renderHtml } from './report/html.js';
export { renderJunit } from './report/junit.js';
export { evaluate, evaluateConnection, parseDuration, parseTolerance, renderCheckText, type Expectations, type CheckOutcome, type CheckResult, type Tolerance } from './report/check.js';
export { MIDDLEBOX_TIMEOUTS, DEFAULT_MIDDLEBOX_TIMEOUT } from './analysis/lint.js';
export { captureLive, formatLiveEvent, listDevices, LiveError, type LiveEvent, type LiveOptions, type LiveResult, type LiveStats } from './live/index.js';
export { recordScenario, RecordError, SCENARIOS, type RecordOptions, type RecordResult, type Scenario } from './record/index.js';
export { startRun, runWithCapture, judgeRun, renderRunText, renderRunMarkdown, renderRunJson, RunError, type RunOptions, type RunResult, type RunHandle, type RunOutcome } from './run/index.js';
