/** Live capture through libpcap (the optional `cap` package): the library side of `keepalive live`. */
export { LiveError, loadCap, linkTypeOf, CAP_MISSING_HINT, PERMISSION_HINT, type CapDevice, type LiveErrorKind } from './cap.js';
export { openSource, openCapSource, listDevices, DEFAULT_BUFFER_BYTES, CAP_SNAPLEN, type FrameSource, type SourceOptions, type SourceStats } from './source.js';
export { captureLive, type LiveEvent, type LiveOptions, type LiveResult, type LiveStats, type StopReason } from './session.js';
export { formatLiveEvent } from './events.js';
