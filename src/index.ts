/** The library API: the same pipeline the CLI runs. */
export { Analysis, analyze, analyzeToReport, selects, type AnalyzeOptions } from './analysis/analyze.js';
export type * from './analysis/model.js';
export { openCapture, readFrames, CaptureFile } from './capture/open.js';
export { CaptureError } from './capture/errors.js';
export type { Frame } from './capture/frame.js';
export { decodeFrame, DECODED_TCP, NOT_TCP, UNKNOWN_LINK_TYPE } from './decode/decode.js';
export { Segment, formatEndpoint } from './decode/segment.js';
export { renderJson } from './report/json.js';
export { renderText } from './report/text.js';
