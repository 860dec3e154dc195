// The connection table of src/analysis/flows.ts (Tracker) in C++, for the analyses that list no
// probe and follow no event (CSV, markdown, check): the same slab layout, the same steps in the
// same order, the same doubles. A finished connection is written as src/analysis/handoff.ts
// lays it out (ConnectionBatch), and the JavaScript side reads it back with readConnection.
// Every rule lives in flows.ts first; this file follows it line for line, and
// test/native.test.ts fails when the two disagree on any fixture, the bench capture or a
// fuzzed mutant. The segments come decoded (src/analysis/native.ts): nothing here parses bytes
// of the capture.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

namespace {

constexpr double INF = std::numeric_limits<double>::infinity();
constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

// ---- Segment record (src/analysis/native.ts writes it) ----
constexpr int G_FRAME = 0, G_SEC = 1, G_NSEC = 2, G_VERSION = 3, G_SRC = 4, G_DST = 8, G_SRC_PORT = 12, G_DST_PORT = 13, G_SEQ = 14,
              G_ACK = 15, G_FLAGS = 16, G_WINDOW = 17, G_CHECKSUM = 18, G_IP_ID = 19, G_PAYLOAD = 20, G_WSCALE = 21;
constexpr int G_STRIDE = 22;

constexpr int FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;

constexpr double CLOSE_GRACE_SECONDS = 30;
constexpr double COPY_SECONDS = 0.01;

constexpr double FATE_ALIVE = 1, FATE_WAITING = 2, FATE_DEAD = 3, FATE_RESET = 4;

// ---- Timing rings (flows.ts TimingTable, bounded.ts InlineRings) ----
constexpr int SAMPLE_CAPACITY = 256;
constexpr int IDLE = 0, AFTER_ANSWER = 1, INTERVAL = 2;
constexpr int INLINE_VALUES = 4;
constexpr int T_VALUES = 3;
constexpr int T_STRIDE = T_VALUES + 3 * INLINE_VALUES;

// ---- Heartbeats (heartbeat.ts BeatTable) ----
constexpr double HEARTBEAT_MAX_BYTES = 256;
constexpr double MIN_BEATS = 4;
constexpr double REPLY_WINDOW_SECONDS = 1;
constexpr int RING = 8;
constexpr int B_COUNT = 0, B_LAST_T = 1, B_REPLIES = 2, B_QUIET = 3, B_GAPS_SEEN = 4, B_BUSY = 5, B_AWAITING = 6, B_GAPS = 8;
constexpr int B_SIZES = B_GAPS + RING, B_REPLY_SIZES = B_SIZES + RING, B_STRIDE = B_REPLY_SIZES + RING;

// ---- Slot layout (flows.ts) ----
constexpr int C_GEN = 0, C_OPEN = 1, C_CLIENT_IS_A = 2, C_ROLES = 3, C_PACKETS = 4, C_FIRST_FRAME = 5, C_LAST_FRAME = 6, C_FIRST_SEC = 7,
              C_FIRST_NSEC = 8, C_LAST_SEC = 9, C_LAST_NSEC = 10, C_FIRST_T = 11, C_LAST_T = 12, C_MAX_GAP = 13, C_CLOSED_BY = 14,
              C_CLOSE_T = 15, DIR_A = 16;
constexpr int D_NEXT_SEQ = 0, D_NEXT_SEQ_KNOWN = 1, D_WINDOW = 2, D_SCALE = 3, D_PENDING = 4, D_LAST_ACTIVITY = 5, D_LAST_WAS_PROBE_ACK = 6,
              D_PROBE_ORDINAL = 7, D_FATE = 8, D_HAS_BEATS = 9, D_LAST_PROBE_T = 10, D_MAX_ORDINAL = 11, D_OFFERED_SCALE = 12,
              D_SENT_SYN = 13, D_SYN_SEQ = 14, D_SENT_FIN = 15, D_GAVE_UP_AFTER = 16, D_GAVE_UP_FRAME = 17, D_ZERO_WINDOW = 18,
              D_EMPTY = 19, D_ONE_BYTE = 20, D_PROBES = 21, D_ACKED = 22, D_RESET_PROBES = 23, D_RESET_PROBE_FRAME = 24,
              D_RESET_REPLY_FRAME = 25, D_PENDING_SEQ = 26, D_PENDING_FRAME = 27, D_GAVE_UP_ELAPSED = 28, D_GAVE_UP_PROBE_ELAPSED = 29,
              D_SENT = 30;
constexpr int SENT_T = 0, SENT_SEQ = 1, SENT_ACK = 2, SENT_FLAGS_LEN = 3, SENT_WINDOW_SUM = 4, SENT_RECORD = 5;
constexpr int D_STRIDE = D_SENT + 2 * SENT_RECORD;
constexpr int DIR_B = DIR_A + D_STRIDE;
constexpr int STRIDE = DIR_B + D_STRIDE;

constexpr double BEATS_ON = 1, BEATS_AFTER_BULK = 2;
constexpr double ROLES_PORT = 0, ROLES_SYN = 1, ROLES_SYN_ACK = 2;
constexpr double CLOSED_NONE = 0, CLOSED_FIN = 1, CLOSED_RST = 2;

constexpr int K_A = 0, K_B = 4, K_A_PORT = 8, K_B_PORT = 9, K_VERSION = 10, K_HASH = 11, K_NEXT = 12, K_STRIDE = 13;
constexpr int INITIAL_SLOTS = 1024;
/** Connections finalised per call at the end, before JavaScript takes them. */
constexpr size_t FINISH_STEP = 256;

// ---- handoff.ts layout ----
constexpr int CONN_FIXED = 26, DIR_FIXED = 20, BEATS_FIXED = 5;

/** ECMAScript ToInt32 of an integer-valued double (what `x | 0` does); 0 for what is not finite. */
inline int32_t toInt32(double x) {
  if (!(x > -9.2e18 && x < 9.2e18)) return 0;
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(x)));
}
/** `x >>> 0`. */
inline double toUint32(double x) { return static_cast<double>(static_cast<uint32_t>(toInt32(x))); }
inline double seqAdd(double a, double n) { return toUint32(a + n); }
inline bool seqGt(double a, double b) { return toInt32(a - b) > 0; }
/** A count kept in a double, as an index (counts are small non-negative integers). */
inline int64_t count(double x) { return x > 0 && x < 9.2e18 ? static_cast<int64_t>(x) : 0; }

inline int32_t mixEndpoint(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3, uint32_t port) {
  uint32_t h = (port + 0x9e3779b1u) * 0x85ebca6bu;
  h = (h ^ w0) * 0xc2b2ae35u;
  h = (h ^ w1) * 0x85ebca6bu;
  h = (h ^ w2) * 0xc2b2ae35u;
  h = (h ^ w3) * 0x85ebca6bu;
  return static_cast<int32_t>(h ^ (h >> 15));
}

/**
 * A zeroed array that grows by copying into a new zeroed one, as a typed array does: calloc
 * leaves the pages of a large block untouched until written, so slots never used cost no
 * memory (std::vector::resize would write every zero).
 */
template <typename T>
class Array {
 public:
  Array() = default;
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;
  ~Array() { std::free(data_); }
  void grow(size_t n) {
    if (n <= size_) return;
    T* p = static_cast<T*>(std::calloc(n, sizeof(T)));
    if (p == nullptr) std::abort();
    if (size_ > 0) std::memcpy(p, data_, size_ * sizeof(T));
    std::free(data_);
    data_ = p;
    size_ = n;
  }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

struct Seg {
  double frame, sec, nsec;
  int32_t version;
  int32_t src[4], dst[4];
  int32_t srcPort, dstPort;
  double seq, ack;
  int32_t flags;
  double window, checksum, ipId, payloadLen, windowScale;
};

class Table {
 public:
  Table() { grow(INITIAL_SLOTS); }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  ~Table() {
    for (int r = 0; r < 3; r++)
      for (size_t d = 0; d < spills[r].size(); d++) delete spills[r][d];
  }

  double open = 0, keepaliveProbes = 0, zeroWindowProbes = 0, copies = 0, firstCopyFrame = 0;
  /** Finished connections, handoff.ts's layout, waiting to be taken. */
  std::vector<double> out;
  double finished = 0;
  /** Lowest first frame among them (Infinity when none). */
  double outFirstFrame = INF;

  void add(const Seg& seg) {
    if (baseSec < 0) baseSec = seg.sec;
    clock = seg.sec - baseSec + seg.nsec / 1e9;
    if (clock - sweepFrom > CLOSE_GRACE_SECONDS) sweep();
    const int32_t hash = mixEndpoint(seg.src[0], seg.src[1], seg.src[2], seg.src[3], seg.srcPort) ^
                         mixEndpoint(seg.dst[0], seg.dst[1], seg.dst[2], seg.dst[3], seg.dstPort);
    int32_t slot = buckets[hash & mask];
    bool fromA = false;
    while (slot >= 0) {
      const int32_t* k = &keys[static_cast<size_t>(slot) * K_STRIDE];
      if (k[K_HASH] == hash) {
        if (matches(k + K_A, k + K_B, k[K_A_PORT], k[K_B_PORT], k[K_VERSION], seg)) {
          fromA = true;
          break;
        }
        if (matches(k + K_B, k + K_A, k[K_B_PORT], k[K_A_PORT], k[K_VERSION], seg)) {
          fromA = false;
          break;
        }
      }
      slot = k[K_NEXT];
    }
    const int flags = seg.flags;
    if (slot >= 0 && (flags & (SYN | ACK)) == SYN) {
      const double* S = slab.data();
      const size_t sd = static_cast<size_t>(slot) * STRIDE + (fromA ? DIR_A : DIR_B);
      if (S[static_cast<size_t>(slot) * STRIDE + C_CLOSED_BY] != CLOSED_NONE || S[sd + D_SENT_SYN] == 0 || S[sd + D_SYN_SEQ] != seg.seq) {
        finalize(slot);
        slot = -1;
      }
    }
    if (slot < 0) {
      slot = create(hash, seg);
      fromA = true;
    }
    segment(slot, fromA, seg);
  }

  double oldestOpenFrame() const {
    double oldest = INF;
    for (int32_t slot = 0; slot < capacity; slot++) {
      const size_t c = static_cast<size_t>(slot) * STRIDE;
      if (slab[c + C_OPEN] != 0 && slab[c + C_FIRST_FRAME] < oldest) oldest = slab[c + C_FIRST_FRAME];
    }
    return oldest;
  }

  /**
   * Finalise the connections still open, in order of first frame, at most `most` of them per
   * call (so that what waits to be taken stays small); false once none is left.
   */
  bool finish(size_t most) {
    if (!finishing) {
      finishing = true;
      finishOrder.clear();
      for (int32_t slot = 0; slot < capacity; slot++)
        if (slab[static_cast<size_t>(slot) * STRIDE + C_OPEN] != 0) finishOrder.push_back(slot);
      // As openSlots sorts them: by first frame (distinct: a frame starts one connection at most).
      std::sort(finishOrder.begin(), finishOrder.end(), [this](int32_t x, int32_t y) {
        return slab[static_cast<size_t>(x) * STRIDE + C_FIRST_FRAME] < slab[static_cast<size_t>(y) * STRIDE + C_FIRST_FRAME];
      });
      finishAt = 0;
    }
    for (size_t n = 0; n < most && finishAt < finishOrder.size(); n++) finalize(finishOrder[finishAt++]);
    return finishAt < finishOrder.size();
  }

 private:
  int32_t capacity = 0;
  Array<double> slab;
  Array<int32_t> keys;
  std::vector<int32_t> buckets;
  int32_t mask = 0;
  std::vector<int32_t> freeSlots;
  Array<double> timing;  // TimingTable's slab
  Array<std::vector<double>*> spills[3];  // InlineRings: spills[ring][direction], null when not spilled
  Array<double> beats;  // BeatTable's slab
  bool finishing = false;
  std::vector<int32_t> finishOrder;
  size_t finishAt = 0;
  std::vector<int32_t> closedSlots;
  std::vector<double> closedGens;
  size_t closedHead = 0;
  double sweepFrom = INF;
  double baseSec = -1;
  double clock = 0;

  static bool matches(const int32_t* from, const int32_t* to, int32_t fromPort, int32_t toPort, int32_t version, const Seg& s) {
    return fromPort == s.srcPort && toPort == s.dstPort && version == s.version && from[3] == s.src[3] && to[3] == s.dst[3] &&
           from[2] == s.src[2] && to[2] == s.dst[2] && from[1] == s.src[1] && to[1] == s.dst[1] && from[0] == s.src[0] && to[0] == s.dst[0];
  }

  void grow(int32_t newCapacity) {
    const int32_t old = capacity;
    slab.grow(static_cast<size_t>(newCapacity) * STRIDE);
    keys.grow(static_cast<size_t>(newCapacity) * K_STRIDE);
    capacity = newCapacity;
    beats.grow(static_cast<size_t>(newCapacity) * 2 * B_STRIDE);
    timing.grow(static_cast<size_t>(newCapacity) * 2 * T_STRIDE);
    for (int r = 0; r < 3; r++) spills[r].grow(static_cast<size_t>(newCapacity) * 2);
    buckets.assign(static_cast<size_t>(newCapacity) * 2, -1);
    mask = newCapacity * 2 - 1;
    for (int32_t slot = 0; slot < old; slot++)
      if (slab[static_cast<size_t>(slot) * STRIDE + C_OPEN] != 0) link(slot);
    for (int32_t slot = newCapacity - 1; slot >= old; slot--) freeSlots.push_back(slot);
  }

  void link(int32_t slot) {
    int32_t* k = &keys[static_cast<size_t>(slot) * K_STRIDE];
    const int32_t b = k[K_HASH] & mask;
    k[K_NEXT] = buckets[b];
    buckets[b] = slot;
  }

  void unlink(int32_t slot) {
    const int32_t b = keys[static_cast<size_t>(slot) * K_STRIDE + K_HASH] & mask;
    int32_t x = buckets[b];
    if (x == slot) {
      buckets[b] = keys[static_cast<size_t>(slot) * K_STRIDE + K_NEXT];
      return;
    }
    while (x >= 0) {
      const int32_t next = keys[static_cast<size_t>(x) * K_STRIDE + K_NEXT];
      if (next == slot) {
        keys[static_cast<size_t>(x) * K_STRIDE + K_NEXT] = keys[static_cast<size_t>(slot) * K_STRIDE + K_NEXT];
        return;
      }
      x = next;
    }
  }

  int32_t create(int32_t hash, const Seg& seg) {
    if (freeSlots.empty()) grow(capacity * 2);
    const int32_t slot = freeSlots.back();
    freeSlots.pop_back();
    double* S = slab.data();
    const size_t c = static_cast<size_t>(slot) * STRIDE;
    const double gen = S[c + C_GEN] + 1;
    std::fill(S + c, S + c + STRIDE, 0.0);
    S[c + C_GEN] = gen;
    S[c + C_OPEN] = 1;
    for (size_t d = c + DIR_A; d <= c + DIR_B; d += D_STRIDE) {
      S[d + D_WINDOW] = -1;
      S[d + D_SCALE] = 1;
      S[d + D_OFFERED_SCALE] = -1;
      S[d + D_LAST_ACTIVITY] = NaN;
      S[d + D_GAVE_UP_AFTER] = -1;
      S[d + D_SENT + SENT_T] = -INF;
      S[d + D_SENT + SENT_RECORD + SENT_T] = -INF;
    }
    int32_t* K = &keys[static_cast<size_t>(slot) * K_STRIDE];
    for (int i = 0; i < 4; i++) {
      K[K_A + i] = seg.src[i];
      K[K_B + i] = seg.dst[i];
    }
    K[K_A_PORT] = seg.srcPort;
    K[K_B_PORT] = seg.dstPort;
    K[K_VERSION] = seg.version;
    K[K_HASH] = hash;
    link(slot);
    const int flags = seg.flags;
    if ((flags & (SYN | ACK)) == SYN) {
      S[c + C_CLIENT_IS_A] = 1;
      S[c + C_ROLES] = ROLES_SYN;
    } else if ((flags & (SYN | ACK)) == (SYN | ACK)) {
      S[c + C_CLIENT_IS_A] = 0;
      S[c + C_ROLES] = ROLES_SYN_ACK;
    } else {
      S[c + C_CLIENT_IS_A] = seg.srcPort > seg.dstPort ? 1 : 0;
      S[c + C_ROLES] = ROLES_PORT;
    }
    S[c + C_FIRST_FRAME] = seg.frame;
    S[c + C_FIRST_SEC] = seg.sec;
    S[c + C_FIRST_NSEC] = seg.nsec;
    S[c + C_FIRST_T] = clock;
    open++;
    return slot;
  }

  // ---- TimingTable ----
  void timingAdd(size_t d, int ring, double x) {
    double* T = timing.data();
    const size_t at = d * T_STRIDE;
    const double n = T[at + ring];
    // InlineRings.keep
    const size_t inlineAt = at + T_VALUES + static_cast<size_t>(ring) * INLINE_VALUES;
    const int64_t ni = count(n);
    if (ni < INLINE_VALUES) {
      T[inlineAt + ni] = x;
    } else {
      if (spills[ring][d] == nullptr) {
        spills[ring][d] = new std::vector<double>();
        for (int i = 0; i < INLINE_VALUES; i++) spills[ring][d]->push_back(T[inlineAt + i]);
      }
      std::vector<double>& values = *spills[ring][d];
      if (static_cast<int64_t>(values.size()) < SAMPLE_CAPACITY) values.push_back(x);
      else values[static_cast<size_t>(ni % SAMPLE_CAPACITY)] = x;
    }
    T[at + ring] = n + 1;
  }

  void timingClear(size_t d) {
    std::fill(timing.data() + d * T_STRIDE, timing.data() + (d + 1) * T_STRIDE, 0.0);
    for (int r = 0; r < 3; r++) {
      delete spills[r][d];
      spills[r][d] = nullptr;
    }
  }

  /** TimingTable.load + SampleRing.writeTo: [count, kept, values…]. */
  void writeTiming(size_t d, int ring) {
    const size_t at = d * T_STRIDE;
    const double n = timing[at + ring];
    if (n == 0) {
      out.push_back(0);
      out.push_back(0);
      return;
    }
    if (spills[ring][d] != nullptr) {
      const std::vector<double>& values = *spills[ring][d];
      out.push_back(n);
      out.push_back(static_cast<double>(values.size()));
      out.insert(out.end(), values.begin(), values.end());
      return;
    }
    const int64_t kept = count(n) < INLINE_VALUES ? count(n) : INLINE_VALUES;
    out.push_back(n);
    out.push_back(static_cast<double>(kept));
    const size_t inlineAt = at + T_VALUES + static_cast<size_t>(ring) * INLINE_VALUES;
    for (int64_t i = 0; i < kept; i++) out.push_back(timing[inlineAt + static_cast<size_t>(i)]);
  }

  // ---- BeatTable ----
  static void keepBeat(double* S, size_t at, double n, double x) { S[at + static_cast<size_t>(count(n) & (RING - 1))] = x; }

  void onData(size_t mine, size_t theirs, double bytes) {
    double* S = beats.data();
    const double t = clock;
    const size_t m = mine * B_STRIDE;
    const size_t p = theirs * B_STRIDE;
    const bool small = bytes <= HEARTBEAT_MAX_BYTES;
    if (small && S[p + B_AWAITING] != 0 && t - S[p + B_LAST_T] <= REPLY_WINDOW_SECONDS) {
      keepBeat(S, p + B_REPLY_SIZES, S[p + B_REPLIES], bytes);
      S[p + B_REPLIES]++;
      S[p + B_AWAITING] = 0;
      return;
    }
    if (small) {
      if (S[m + B_COUNT] > 0) {
        keepBeat(S, m + B_GAPS, S[m + B_GAPS_SEEN], t - S[m + B_LAST_T]);
        S[m + B_GAPS_SEEN]++;
        if (S[m + B_BUSY] == 0) S[m + B_QUIET]++;
      }
      keepBeat(S, m + B_SIZES, S[m + B_COUNT], bytes);
      S[m + B_COUNT]++;
      S[m + B_LAST_T] = t;
      S[m + B_BUSY] = 0;
      S[m + B_AWAITING] = 1;
      return;
    }
    S[m + B_BUSY] = 1;
    S[p + B_BUSY] = 1;
    S[m + B_AWAITING] = 0;
  }

  void beatsClear(size_t d) {
    std::fill(beats.data() + d * B_STRIDE, beats.data() + (d + 1) * B_STRIDE, 0.0);
  }

  /** heartbeat.ts loadRing + SampleRing.writeTo. */
  void writeBeatRing(size_t at, double n) {
    out.push_back(n);
    const int64_t kept = count(n) < RING ? count(n) : RING;
    out.push_back(static_cast<double>(kept));
    for (int64_t i = 0; i < kept; i++) out.push_back(beats[at + static_cast<size_t>(i)]);
  }

  /** BeatTable.load into the direction's track, then handoff's beat part. */
  void writeBeats(size_t d) {
    const size_t b = d * B_STRIDE;
    const double cnt = beats[b + B_COUNT];
    if (!(cnt >= MIN_BEATS)) {
      out.push_back(0);
      return;
    }
    out.push_back(1);
    const double gapsSeen = beats[b + B_GAPS_SEEN];
    const double replies = beats[b + B_REPLIES];
    out.push_back(cnt);
    out.push_back(replies);
    out.push_back(beats[b + B_QUIET]);
    out.push_back(gapsSeen);
    out.push_back(0);
    writeBeatRing(b + B_GAPS, gapsSeen);
    writeBeatRing(b + B_SIZES, cnt);
    writeBeatRing(b + B_REPLY_SIZES, replies);
  }

  void segment(int32_t slot, bool fromA, const Seg& seg) {
    double* S = slab.data();
    const double t = clock;
    const size_t c = static_cast<size_t>(slot) * STRIDE;
    const size_t sd = c + (fromA ? DIR_A : DIR_B);
    const size_t rd = c + (fromA ? DIR_B : DIR_A);
    const size_t si = 2 * static_cast<size_t>(slot) + (fromA ? 0 : 1);
    const size_t ri = 2 * static_cast<size_t>(slot) + (fromA ? 1 : 0);
    const int flags = seg.flags;
    if (S[c + C_PACKETS] > 0 && t - S[c + C_LAST_T] > S[c + C_MAX_GAP]) S[c + C_MAX_GAP] = t - S[c + C_LAST_T];
    S[c + C_PACKETS]++;
    S[c + C_LAST_FRAME] = seg.frame;
    S[c + C_LAST_SEC] = seg.sec;
    S[c + C_LAST_NSEC] = seg.nsec;
    S[c + C_LAST_T] = t;

    const double flagsLen = ((seg.ipId + 1) * 256 + flags) * 65536 + seg.payloadLen;
    const double windowSum = seg.window * 65536 + seg.checksum;
    for (size_t r = sd + D_SENT; r <= sd + D_SENT + SENT_RECORD; r += SENT_RECORD) {
      if (std::fabs(t - S[r + SENT_T]) < COPY_SECONDS && S[r + SENT_SEQ] == seg.seq && S[r + SENT_ACK] == seg.ack &&
          S[r + SENT_FLAGS_LEN] == flagsLen && S[r + SENT_WINDOW_SUM] == windowSum) {
        if (copies++ == 0) firstCopyFrame = seg.frame;
        return;
      }
    }
    const size_t older = sd + D_SENT + SENT_RECORD;
    S[older + SENT_T] = S[sd + D_SENT + SENT_T];
    S[older + SENT_SEQ] = S[sd + D_SENT + SENT_SEQ];
    S[older + SENT_ACK] = S[sd + D_SENT + SENT_ACK];
    S[older + SENT_FLAGS_LEN] = S[sd + D_SENT + SENT_FLAGS_LEN];
    S[older + SENT_WINDOW_SUM] = S[sd + D_SENT + SENT_WINDOW_SUM];
    S[sd + D_SENT + SENT_T] = t;
    S[sd + D_SENT + SENT_SEQ] = seg.seq;
    S[sd + D_SENT + SENT_ACK] = seg.ack;
    S[sd + D_SENT + SENT_FLAGS_LEN] = flagsLen;
    S[sd + D_SENT + SENT_WINDOW_SUM] = windowSum;

    const bool senderKnown = S[sd + D_NEXT_SEQ_KNOWN] != 0;
    const double senderNext = S[sd + D_NEXT_SEQ];
    // keepalive.ts looksLikeKeepalive, isOneByteZeroWindowProbe
    bool probe = S[sd + D_NEXT_SEQ_KNOWN] != 0 && (flags & (SYN | FIN | RST)) == 0 && seg.payloadLen <= 1 &&
                 seg.seq == seqAdd(S[sd + D_NEXT_SEQ], -1);
    bool zeroWindowProbe = false;
    if (probe && S[rd + D_WINDOW] == 0) {
      probe = false;
      zeroWindowProbe = true;
    } else if (!probe && S[rd + D_WINDOW] == 0 && S[sd + D_NEXT_SEQ_KNOWN] != 0 && seg.payloadLen == 1 && (flags & (SYN | FIN | RST)) == 0 &&
               seg.seq == S[sd + D_NEXT_SEQ]) {
      zeroWindowProbe = true;
    }

    bool answersProbe = false;
    if (S[rd + D_PENDING] != 0 && !probe && !zeroWindowProbe) {
      // keepalive.ts replyTo
      int reply = 0;
      if ((flags & RST) != 0) reply = 2;
      else if ((flags & ACK) != 0 && toInt32(seg.ack - seqAdd(S[rd + D_PENDING_SEQ], 1)) >= 0) reply = 1;
      if (reply != 0) {
        S[rd + D_PENDING] = 0;
        S[rd + D_FATE] = reply == 1 ? FATE_ALIVE : FATE_RESET;
        if (reply == 1) S[rd + D_ACKED]++;
        else {
          S[rd + D_RESET_PROBES]++;
          S[rd + D_RESET_PROBE_FRAME] = S[rd + D_PENDING_FRAME];
          S[rd + D_RESET_REPLY_FRAME] = seg.frame;
        }
        answersProbe = reply == 1 && seg.payloadLen == 0;
      }
    }

    if (!probe && !zeroWindowProbe && (flags & RST) == 0) {
      S[rd + D_LAST_ACTIVITY] = t;
      S[rd + D_LAST_WAS_PROBE_ACK] = answersProbe ? 1 : 0;
      S[rd + D_PROBE_ORDINAL] = 0;
      if (S[rd + D_FATE] == FATE_WAITING) S[rd + D_FATE] = FATE_ALIVE;
    }

    if (probe) probeOf(slot, fromA, seg);
    else if (zeroWindowProbe) {
      S[sd + D_ZERO_WINDOW]++;
      zeroWindowProbes++;
    }

    if (seg.payloadLen > 0 && !probe && !zeroWindowProbe && (flags & (SYN | RST)) == 0 && (!senderKnown || !seqGt(senderNext, seg.seq))) {
      if (seg.payloadLen > HEARTBEAT_MAX_BYTES) {
        if (S[sd + D_HAS_BEATS] == BEATS_ON) {
          onData(si, ri, seg.payloadLen);
          S[sd + D_HAS_BEATS] = BEATS_AFTER_BULK;
          S[rd + D_HAS_BEATS] = BEATS_ON;
        }
      } else {
        onData(si, ri, seg.payloadLen);
        S[sd + D_HAS_BEATS] = BEATS_ON;
        S[rd + D_HAS_BEATS] = BEATS_ON;
      }
    }

    if ((flags & RST) != 0) {
      if (S[sd + D_FATE] == FATE_WAITING && S[sd + D_PROBE_ORDINAL] > 0) {
        S[sd + D_FATE] = FATE_DEAD;
        S[sd + D_GAVE_UP_AFTER] = S[sd + D_PROBE_ORDINAL];
        S[sd + D_GAVE_UP_FRAME] = seg.frame;
        S[sd + D_GAVE_UP_ELAPSED] = t - S[sd + D_LAST_ACTIVITY];
        S[sd + D_GAVE_UP_PROBE_ELAPSED] = S[sd + D_LAST_PROBE_T] - S[sd + D_LAST_ACTIVITY];
        timingAdd(si, INTERVAL, t - S[sd + D_LAST_PROBE_T]);
        S[sd + D_PENDING] = 0;
      }
      close(slot, CLOSED_RST);
      return;
    }

    if ((flags & SYN) != 0) {
      S[sd + D_SENT_SYN] = 1;
      S[sd + D_SYN_SEQ] = seg.seq;
      S[sd + D_OFFERED_SCALE] = seg.windowScale;
      if ((flags & ACK) != 0 && S[rd + D_OFFERED_SCALE] >= 0 && seg.windowScale >= 0) {
        S[rd + D_SCALE] = std::pow(2.0, std::fmin(S[rd + D_OFFERED_SCALE], 14.0));
        S[sd + D_SCALE] = std::pow(2.0, std::fmin(seg.windowScale, 14.0));
      }
    }
    const double end = seqAdd(seg.seq, seg.payloadLen + ((flags & SYN) != 0 ? 1 : 0) + ((flags & FIN) != 0 ? 1 : 0));
    if (!zeroWindowProbe && (!senderKnown || seqGt(end, senderNext))) {
      S[sd + D_NEXT_SEQ] = end;
      S[sd + D_NEXT_SEQ_KNOWN] = 1;
    }
    S[sd + D_WINDOW] = (flags & SYN) != 0 ? seg.window : seg.window * S[sd + D_SCALE];
    if ((flags & ACK) != 0 && (S[rd + D_NEXT_SEQ_KNOWN] == 0 || seqGt(seg.ack, S[rd + D_NEXT_SEQ]))) {
      S[rd + D_NEXT_SEQ] = seg.ack;
      S[rd + D_NEXT_SEQ_KNOWN] = 1;
    }
    if ((flags & FIN) != 0) {
      S[sd + D_SENT_FIN] = 1;
      if (S[rd + D_SENT_FIN] != 0) close(slot, CLOSED_FIN);
    }
  }

  void probeOf(int32_t slot, bool fromA, const Seg& seg) {
    double* S = slab.data();
    const double t = clock;
    const size_t sd = static_cast<size_t>(slot) * STRIDE + (fromA ? DIR_A : DIR_B);
    const size_t si = 2 * static_cast<size_t>(slot) + (fromA ? 0 : 1);
    const double ordinal = ++S[sd + D_PROBE_ORDINAL];
    const double last = S[sd + D_LAST_ACTIVITY];
    const bool known = !std::isnan(last);
    const double since = t - last;
    if (ordinal == 1 && known) timingAdd(si, S[sd + D_LAST_WAS_PROBE_ACK] != 0 ? AFTER_ANSWER : IDLE, since);
    if (ordinal > 1) timingAdd(si, INTERVAL, t - S[sd + D_LAST_PROBE_T]);
    S[sd + D_LAST_PROBE_T] = t;
    if (ordinal > S[sd + D_MAX_ORDINAL]) S[sd + D_MAX_ORDINAL] = ordinal;
    if (seg.payloadLen == 0) S[sd + D_EMPTY]++;
    else S[sd + D_ONE_BYTE]++;
    S[sd + D_PROBES]++;
    S[sd + D_PENDING] = 1;
    S[sd + D_PENDING_SEQ] = seg.seq;
    S[sd + D_PENDING_FRAME] = seg.frame;
    S[sd + D_FATE] = FATE_WAITING;
    keepaliveProbes++;
  }

  void close(int32_t slot, double how) {
    double* S = slab.data();
    const size_t c = static_cast<size_t>(slot) * STRIDE;
    if (S[c + C_CLOSED_BY] != CLOSED_NONE) return;
    S[c + C_CLOSED_BY] = how;
    S[c + C_CLOSE_T] = clock;
    closedSlots.push_back(slot);
    closedGens.push_back(S[c + C_GEN]);
    if (sweepFrom == INF) sweepFrom = S[c + C_CLOSE_T];
  }

  void sweep() {
    const double t = clock;
    while (closedHead < closedSlots.size()) {
      const int32_t slot = closedSlots[closedHead];
      const size_t c = static_cast<size_t>(slot) * STRIDE;
      const bool current = slab[c + C_OPEN] != 0 && slab[c + C_GEN] == closedGens[closedHead];
      if (current && t - slab[c + C_CLOSE_T] <= CLOSE_GRACE_SECONDS) break;
      closedHead++;
      if (current) finalize(slot);
    }
    sweepFrom = closedHead < closedSlots.size() ? slab[static_cast<size_t>(closedSlots[closedHead]) * STRIDE + C_CLOSE_T] : INF;
    if (closedHead > 1024 && closedHead * 2 > closedSlots.size()) {
      closedSlots.erase(closedSlots.begin(), closedSlots.begin() + static_cast<std::ptrdiff_t>(closedHead));
      closedGens.erase(closedGens.begin(), closedGens.begin() + static_cast<std::ptrdiff_t>(closedHead));
      closedHead = 0;
    }
  }

  void finalize(int32_t slot) {
    const size_t c = static_cast<size_t>(slot) * STRIDE;
    if (slab[c + C_OPEN] == 0) return;
    sweepFrom = -INF;
    writeConnection(slot);
    unlink(slot);
    slab[c + C_OPEN] = 0;
    for (size_t i = 2 * static_cast<size_t>(slot); i <= 2 * static_cast<size_t>(slot) + 1; i++) {
      timingClear(i);
      beatsClear(i);
    }
    freeSlots.push_back(slot);
    open--;
    finished++;
  }

  /** flows.ts connectionOf + fillDirection, as handoff.ts ConnectionBatch.add writes them (no probe list). */
  void writeConnection(int32_t slot) {
    const double* S = slab.data();
    const int32_t* K = &keys[static_cast<size_t>(slot) * K_STRIDE];
    const size_t c = static_cast<size_t>(slot) * STRIDE;
    const double fixed[CONN_FIXED] = {
        K[K_VERSION] == 6 ? 6.0 : 4.0,
        static_cast<double>(static_cast<uint32_t>(K[K_A])),
        static_cast<double>(static_cast<uint32_t>(K[K_A + 1])),
        static_cast<double>(static_cast<uint32_t>(K[K_A + 2])),
        static_cast<double>(static_cast<uint32_t>(K[K_A + 3])),
        static_cast<double>(K[K_A_PORT]),
        static_cast<double>(static_cast<uint32_t>(K[K_B])),
        static_cast<double>(static_cast<uint32_t>(K[K_B + 1])),
        static_cast<double>(static_cast<uint32_t>(K[K_B + 2])),
        static_cast<double>(static_cast<uint32_t>(K[K_B + 3])),
        static_cast<double>(K[K_B_PORT]),
        S[c + C_CLIENT_IS_A] != 0 ? 1.0 : 0.0,
        S[c + C_ROLES],
        S[c + C_FIRST_FRAME],
        S[c + C_LAST_FRAME],
        S[c + C_FIRST_SEC],
        S[c + C_FIRST_NSEC],
        S[c + C_LAST_SEC],
        S[c + C_LAST_NSEC],
        S[c + C_FIRST_T],
        S[c + C_LAST_T],
        S[c + C_PACKETS],
        S[c + C_MAX_GAP],
        S[c + C_CLOSED_BY],
        S[c + C_CLOSE_T],
        -1,  // no probe list
    };
    out.insert(out.end(), fixed, fixed + CONN_FIXED);
    if (S[c + C_FIRST_FRAME] < outFirstFrame) outFirstFrame = S[c + C_FIRST_FRAME];
    writeDirection(c + DIR_A, 2 * static_cast<size_t>(slot));
    writeDirection(c + DIR_B, 2 * static_cast<size_t>(slot) + 1);
  }

  void writeDirection(size_t d, size_t i) {
    const double* S = slab.data();
    const bool gaveUp = S[d + D_GAVE_UP_AFTER] > 0;
    const double fixed[DIR_FIXED] = {
        S[d + D_NEXT_SEQ],
        S[d + D_NEXT_SEQ_KNOWN] != 0 ? 1.0 : 0.0,
        S[d + D_WINDOW],
        S[d + D_LAST_ACTIVITY],
        S[d + D_PROBE_ORDINAL],
        S[d + D_MAX_ORDINAL],
        S[d + D_FATE],
        S[d + D_GAVE_UP_AFTER],
        S[d + D_GAVE_UP_FRAME],
        gaveUp ? S[d + D_GAVE_UP_ELAPSED] : NaN,
        gaveUp ? S[d + D_GAVE_UP_PROBE_ELAPSED] : NaN,
        S[d + D_ZERO_WINDOW],
        S[d + D_EMPTY],
        S[d + D_ONE_BYTE],
        S[d + D_PROBES],
        S[d + D_ACKED],
        S[d + D_RESET_PROBES],
        S[d + D_RESET_PROBE_FRAME],
        S[d + D_RESET_REPLY_FRAME],
        0,
    };
    out.insert(out.end(), fixed, fixed + DIR_FIXED);
    writeTiming(i, IDLE);
    writeTiming(i, AFTER_ANSWER);
    writeTiming(i, INTERVAL);
    writeBeats(i);
  }
};

// ---- N-API ----

bool ok(napi_env env, napi_status s) {
  if (s == napi_ok) return true;
  const napi_extended_error_info* info = nullptr;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, nullptr, info != nullptr && info->error_message != nullptr ? info->error_message : "native table: N-API call failed");
  return false;
}

void finalizeTable(napi_env, void* data, void*) { delete static_cast<Table*>(data); }

Table* tableOf(napi_env env, napi_value v) {
  void* data = nullptr;
  if (!ok(env, napi_get_value_external(env, v, &data))) return nullptr;
  return static_cast<Table*>(data);
}

bool float64s(napi_env env, napi_value v, double** data, size_t* length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void* raw = nullptr;
  if (!ok(env, napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset))) return false;
  if (type != napi_float64_array) {
    napi_throw_type_error(env, nullptr, "native table: a Float64Array was expected");
    return false;
  }
  *data = static_cast<double*>(raw);
  return true;
}

napi_value number(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

napi_value Create(napi_env env, napi_callback_info) {
  Table* t = new Table();
  napi_value v;
  if (!ok(env, napi_create_external(env, t, finalizeTable, nullptr, &v))) {
    delete t;
    return nullptr;
  }
  return v;
}

/** add(table, segments: Float64Array, count): feed `count` segment records; returns the doubles of finished connections waiting. */
napi_value Add(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  Table* t = tableOf(env, argv[0]);
  if (t == nullptr) return nullptr;
  double* segs = nullptr;
  size_t length = 0;
  if (!float64s(env, argv[1], &segs, &length)) return nullptr;
  uint32_t n = 0;
  if (!ok(env, napi_get_value_uint32(env, argv[2], &n))) return nullptr;
  if (static_cast<size_t>(n) * G_STRIDE > length) {
    napi_throw_range_error(env, nullptr, "native table: more segments than the array holds");
    return nullptr;
  }
  Seg s;
  for (uint32_t i = 0; i < n; i++) {
    const double* g = segs + static_cast<size_t>(i) * G_STRIDE;
    s.frame = g[G_FRAME];
    s.sec = g[G_SEC];
    s.nsec = g[G_NSEC];
    s.version = toInt32(g[G_VERSION]);
    for (int w = 0; w < 4; w++) {
      s.src[w] = toInt32(g[G_SRC + w]);
      s.dst[w] = toInt32(g[G_DST + w]);
    }
    s.srcPort = toInt32(g[G_SRC_PORT]);
    s.dstPort = toInt32(g[G_DST_PORT]);
    s.seq = g[G_SEQ];
    s.ack = g[G_ACK];
    s.flags = toInt32(g[G_FLAGS]);
    s.window = g[G_WINDOW];
    s.checksum = g[G_CHECKSUM];
    s.ipId = g[G_IP_ID];
    s.payloadLen = g[G_PAYLOAD];
    s.windowScale = g[G_WSCALE];
    t->add(s);
  }
  return number(env, static_cast<double>(t->out.size()));
}

/**
 * take(table, into: Float64Array, at, info: Float64Array(2)): copy the finished connections into
 * `into` from double `at` on (it must have room), forget them; info gets how many and their
 * lowest first frame.
 */
napi_value Take(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  Table* t = tableOf(env, argv[0]);
  if (t == nullptr) return nullptr;
  double* into = nullptr;
  size_t length = 0;
  if (!float64s(env, argv[1], &into, &length)) return nullptr;
  uint32_t at = 0;
  if (!ok(env, napi_get_value_uint32(env, argv[2], &at))) return nullptr;
  double* result = nullptr;
  size_t resultLength = 0;
  if (!float64s(env, argv[3], &result, &resultLength)) return nullptr;
  if (at > length || length - at < t->out.size() || resultLength < 2) {
    napi_throw_range_error(env, nullptr, "native table: no room for the connections waiting");
    return nullptr;
  }
  if (!t->out.empty()) std::memcpy(into + at, t->out.data(), t->out.size() * sizeof(double));
  result[0] = t->finished;
  result[1] = t->outFirstFrame;
  t->out.clear();
  t->finished = 0;
  t->outFirstFrame = INF;
  return nullptr;
}

/** finish(table): finalise the next open connections (FINISH_STEP at most, in order of first frame); returns the doubles waiting, -1 when none was left. */
napi_value Finish(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  Table* t = tableOf(env, argv[0]);
  if (t == nullptr) return nullptr;
  const bool more = t->finish(FINISH_STEP);
  return number(env, !more && t->out.empty() ? -1.0 : static_cast<double>(t->out.size()));
}

/** stats(table, into: Float64Array(6)): open, keepalive probes, zero-window probes, copies, first copy frame, oldest open frame. */
napi_value Stats(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  Table* t = tableOf(env, argv[0]);
  if (t == nullptr) return nullptr;
  double* into = nullptr;
  size_t length = 0;
  if (!float64s(env, argv[1], &into, &length)) return nullptr;
  if (length < 6) {
    napi_throw_range_error(env, nullptr, "native table: stats need 6 doubles");
    return nullptr;
  }
  bool withOldest = false;
  if (argc >= 3) napi_get_value_bool(env, argv[2], &withOldest);
  into[0] = t->open;
  into[1] = t->keepaliveProbes;
  into[2] = t->zeroWindowProbes;
  into[3] = t->copies;
  into[4] = t->firstCopyFrame;
  into[5] = withOldest ? t->oldestOpenFrame() : NaN;
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"create", nullptr, Create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"add", nullptr, Add, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"take", nullptr, Take, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"finish", nullptr, Finish, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value layout;
  napi_create_object(env, &layout);
  napi_set_named_property(env, layout, "segmentStride", number(env, G_STRIDE));
  napi_set_named_property(env, exports, "layout", layout);
  if (!ok(env, napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props))) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
