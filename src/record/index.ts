/** `keepalive record`'s library side: real keepalive traffic in private network namespaces, captured live. */
export { recordScenario, validateKnobs, SERVER_PORT, type RecordOptions, type RecordResult } from './record.js';
export { SCENARIOS, plan, type Plan, type Scenario, type Step } from './scenarios.js';
export { RecordError, type RecordErrorKind } from './errors.js';
export { PEER_PY, startPeer, Peer, type KeepaliveKnobs, type PeerAction, type PeerEvent, type PeerSpec } from './peer.js';
export { createPair, deletePair, pairNames, blackhole, type NetnsPair } from './netns.js';
