/**
 * One captured frame as the readers hand it on. The object is reused for every frame of a
 * source: `data` is the reader's own buffer and `offset` where this frame's bytes start, so
 * nothing is copied. A consumer that wants to keep anything copies it before asking for the
 * next frame.
 */
export interface Frame {
  /** Buffer holding the frame's captured bytes (shared with the reader, not a copy). */
  data: Uint8Array;
  /** Index of the frame's first byte in `data`. */
  offset: number;
  /** Bytes captured (at most the snaplen). */
  capLen: number;
  /** Bytes the frame had on the wire. */
  origLen: number;
  /** LINKTYPE_* value of the interface the frame came from. */
  linkType: number;
  /** Whole seconds since 1970-01-01 UTC. */
  tsSec: number;
  /** Nanoseconds within the second (0 .. 999 999 999). */
  tsNsec: number;
  /** Byte offset of the frame's record in its (decompressed) file, for messages. */
  fileOffset: number;
  /** pcapng interface id (0 for classic pcap). */
  interfaceId: number;
}

export function newFrame(): Frame {
  return {
    data: Buffer.alloc(0),
    offset: 0,
    capLen: 0,
    origLen: 0,
    linkType: 0,
    tsSec: 0,
    tsNsec: 0,
    fileOffset: 0,
    interfaceId: 0,
  };
}

/** Copy one frame's fields into another (the bytes stay shared). */
export function assignFrame(to: Frame, from: Frame): void {
  to.data = from.data;
  to.offset = from.offset;
  to.capLen = from.capLen;
  to.origLen = from.origLen;
  to.linkType = from.linkType;
  to.tsSec = from.tsSec;
  to.tsNsec = from.tsNsec;
  to.fileOffset = from.fileOffset;
  to.interfaceId = from.interfaceId;
}
