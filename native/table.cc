// The connection table of src/analysis/flows.ts (Tracker) in C++, for the analyses that list no
// probe and follow no event (CSV, markdown, check): the same steps in the same order, the same
// doubles (held in a compact record where flows.ts has a slab: see "Slot layout"). A finished
// connection is written as src/analysis/handoff.ts lays it out (ConnectionBatch), and the
// JavaScript side reads it back with readConnection, or moves it to the report thread as it is.
// Every rule lives in flows.ts first; this file follows it line for line, and
// test/native.test.ts fails when the two disagree on any fixture, the bench capture or a
// fuzzed mutant. The segments come decoded in batches (src/analysis/native.ts), or, from a
// classic pcap file, this reads the records and decodes them itself (readPcap, below: the
// rules of src/capture/pcap.ts and src/decode/*.ts, for the records they take without a word).
#include <node_api.h>

#include "rows.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>
#include <csetjmp>
#include <csignal>
#include <condition_variable>
#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

// ---- Slot layout ----
// flows.ts keeps a slot in one record of doubles; here the fields almost every packet touches
// sit in one compact record of five cache lines (Hot: the 4-tuple, the connection's last
// packet, each direction's sequence, window, probe and copy state), the others in a record of
// doubles (cold) that only probes, answers, handshakes and endings touch. Every value is the
// same number flows.ts keeps: counts and sequence numbers that are integers below 2^32 are held
// as such, everything else as doubles.
/** The last segment a direction sent, to know a second copy of it (flows.ts D_SENT). */
struct Sent {
  double t;
  double flagsLen;  // ((IPv4 id + 1) × 2^8 + flags) × 2^16 + payload length
  uint32_t seq, ack, windowSum, unused;
};
struct DirHot {
  uint32_t nextSeq, unusedSeq;  // sequence numbers as the 32 bits they are (flows.ts keeps them as doubles below 2^32)
  double window;  // scaled; -1 before any segment
  double scale;
  double lastActivity;
  Sent sent[2];  // the newest, the one before
  uint32_t pendingSeq;
  uint32_t probeOrdinal;
  uint8_t nextSeqKnown, pending, lastWasProbeAck, fate, hasBeats, sentFin, unused[2];
};
struct alignas(64) Hot {
  int32_t a[4], b[4];
  int32_t hash, next;
  uint16_t aPort, bPort;
  uint8_t version, unused[3];
  double packets, lastT, maxGap, lastFrame, lastSec, lastNsec;
  DirHot dir[2];  // A, B
};
static_assert(sizeof(Hot) == 320, "five cache lines");

// The cold record (doubles): the connection's, then each direction's.
constexpr int C_GEN = 0, C_OPEN = 1, C_CLIENT_IS_A = 2, C_ROLES = 3, C_FIRST_FRAME = 4, C_FIRST_SEC = 5, C_FIRST_NSEC = 6, C_FIRST_T = 7,
              C_CLOSED_BY = 8, C_CLOSE_T = 9, DIR_A = 10;
constexpr int D_LAST_PROBE_T = 0, D_MAX_ORDINAL = 1, D_OFFERED_SCALE = 2, D_SENT_SYN = 3, D_SYN_SEQ = 4, D_GAVE_UP_AFTER = 5, D_GAVE_UP_FRAME = 6,
              D_ZERO_WINDOW = 7, D_EMPTY = 8, D_ONE_BYTE = 9, D_PROBES = 10, D_ACKED = 11, D_RESET_PROBES = 12, D_RESET_PROBE_FRAME = 13,
              D_RESET_REPLY_FRAME = 14, D_PENDING_FRAME = 15, D_GAVE_UP_ELAPSED = 16, D_GAVE_UP_PROBE_ELAPSED = 17, D_STRIDE = 18;
constexpr int DIR_B = DIR_A + D_STRIDE;
constexpr int STRIDE = DIR_B + D_STRIDE;

constexpr uint8_t BEATS_ON = 1, BEATS_AFTER_BULK = 2;
constexpr double ROLES_PORT = 0, ROLES_SYN = 1, ROLES_SYN_ACK = 2;
constexpr double CLOSED_NONE = 0, CLOSED_FIN = 1, CLOSED_RST = 2;
constexpr uint8_t F_ALIVE = 1, F_WAITING = 2, F_DEAD = 3, F_RESET = 4;

constexpr int INITIAL_SLOTS = 1024;
/** Connections finalised per call at the end, before JavaScript takes them. */
constexpr size_t FINISH_STEP = 4096;

// ---- handoff.ts layout ----
constexpr int CONN_FIXED = 26, DIR_FIXED = 20, BEATS_FIXED = 5;

/** ECMAScript ToInt32 of an integer-valued double (what `x | 0` does); 0 for what is not finite. */
inline int32_t toInt32(double x) {
  if (!(x > -9.2e18 && x < 9.2e18)) return 0;
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(x)));
}
/** An integer in [0, 2^32) held in a double, as the 32 bits that hold it. */
inline uint32_t toU32(double x) { return static_cast<uint32_t>(toInt32(x)); }
/** flows.ts seqGt, `((a - b) | 0) > 0`, on the 32 bits. */
inline bool seqGt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }
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
 * A zeroed array that grows by copying into a new zeroed one, as a typed array does: fresh
 * anonymous pages stay untouched until written, so slots never used cost no memory
 * (std::vector::resize would write every zero). A block of 2 MiB or more is mapped in huge
 * pages where the kernel allows them (transparent huge pages, "madvise" mode): first writes to
 * the table's slabs took a page fault per 4 KiB, 60 ms of the table's thread on the 2 M bench.
 */
template <typename T>
class Array {
 public:
  Array() = default;
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;
  ~Array() { release(); }
  /** Room for n elements (kept), the new ones zero; the first starts on a cache line. */
  void grow(size_t n) {
    if (n <= size_) return;
    const size_t bytes = n * sizeof(T);
    void* raw = nullptr;
    size_t mapped = 0;
    T* p = nullptr;
    if (bytes >= HUGE) {
      mapped = (bytes + 2 * HUGE - 1) & ~(HUGE - 1);
      raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (raw == MAP_FAILED) std::abort();
      p = reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(raw) + HUGE - 1) & ~static_cast<uintptr_t>(HUGE - 1));
      madvise(static_cast<void*>(p), mapped - (reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(raw)), MADV_HUGEPAGE);
    } else {
      raw = std::calloc(bytes + LINE, 1);
      if (raw == nullptr) std::abort();
      p = reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(raw) + LINE - 1) & ~static_cast<uintptr_t>(LINE - 1));
    }
    if (size_ > 0) std::memcpy(static_cast<void*>(p), static_cast<const void*>(data_), size_ * sizeof(T));
    release();
    raw_ = raw;
    mapped_ = mapped;
    data_ = p;
    size_ = n;
  }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  static constexpr uintptr_t LINE = 64;
  static constexpr size_t HUGE = 2 << 20;
  void release() {
    if (mapped_ > 0) munmap(raw_, mapped_);
    else std::free(raw_);
    raw_ = nullptr;
    mapped_ = 0;
  }
  void* raw_ = nullptr;
  /** Bytes mapped at raw_ (0: raw_ came from calloc). */
  size_t mapped_ = 0;
  T* data_ = nullptr;
  size_t size_ = 0;
};

struct Seg {
  double frame, sec, nsec;
  int32_t version;
  int32_t src[4], dst[4];
  int32_t srcPort, dstPort;
  uint32_t seq, ack;
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
    unmap();
  }

  /** A classic pcap file mapped into memory (mapFile), read on a thread of its own (startMapped). */
  const uint8_t* mapData = nullptr;
  int64_t mapSize = 0;
  int mapFd = -1;
  /** Bytes from the mapping's start whose pages were let go (readMappedWindow). */
  uintptr_t released = 0;
  /** Is a thread reading the mapped file into the table (nothing else may touch it until stopped)? */
  bool running = false;
  /** That thread and its queue (the N-API part's Reader), or null. */
  void* reader = nullptr;

  void unmap() {
    if (mapData != nullptr) munmap(const_cast<uint8_t*>(mapData), static_cast<size_t>(mapSize));
    mapData = nullptr;
    mapSize = 0;
    mapFd = -1;
    released = 0;
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
      const Hot& h = hot[slot];
      if (h.hash == hash) {
        if (h.aPort == seg.srcPort && h.bPort == seg.dstPort && h.version == seg.version && same(h.a, seg.src) && same(h.b, seg.dst)) {
          fromA = true;
          break;
        }
        if (h.bPort == seg.srcPort && h.aPort == seg.dstPort && h.version == seg.version && same(h.b, seg.src) && same(h.a, seg.dst)) {
          fromA = false;
          break;
        }
      }
      slot = h.next;
    }
    const int flags = seg.flags;
    if (slot >= 0 && (flags & (SYN | ACK)) == SYN) {
      const double* S = cold.data();
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

  /**
   * The first frame of the oldest connection still open (INF when none): the front of openOrder
   * once the connections ended since are dropped from it (asked after every mapped window, a
   * pass over the table took 30 ms of the 2 M bench); a pass over the table when connections
   * were not made in order of frame.
   */
  double oldestOpenFrame() const {
    if (madeInOrder) {
      while (!openOrder.empty()) {
        const Made& m = openOrder.front();
        const size_t c = static_cast<size_t>(m.slot) * STRIDE;
        if (cold[c + C_OPEN] != 0 && cold[c + C_GEN] == m.gen) return cold[c + C_FIRST_FRAME];
        openOrder.pop_front();
      }
      return INF;
    }
    double oldest = INF;
    for (int32_t slot = 0; slot < capacity; slot++) {
      const size_t c = static_cast<size_t>(slot) * STRIDE;
      if (cold[c + C_OPEN] != 0 && cold[c + C_FIRST_FRAME] < oldest) oldest = cold[c + C_FIRST_FRAME];
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
        if (cold[static_cast<size_t>(slot) * STRIDE + C_OPEN] != 0) finishOrder.push_back(slot);
      // As openSlots sorts them: by first frame (distinct: a frame starts one connection at most).
      std::sort(finishOrder.begin(), finishOrder.end(), [this](int32_t x, int32_t y) {
        return cold[static_cast<size_t>(x) * STRIDE + C_FIRST_FRAME] < cold[static_cast<size_t>(y) * STRIDE + C_FIRST_FRAME];
      });
      finishAt = 0;
    }
    for (size_t n = 0; n < most && finishAt < finishOrder.size(); n++) finalize(finishOrder[finishAt++]);
    return finishAt < finishOrder.size();
  }

 private:
  int32_t capacity = 0;
  Array<Hot> hot;
  Array<double> cold;
  std::vector<int32_t> buckets;
  int32_t mask = 0;
  std::vector<int32_t> freeSlots;
  Array<double> timing;  // TimingTable's slab
  Array<std::vector<double>*> spills[3];  // InlineRings: spills[ring][direction], null when not spilled
  Array<double> beats;  // BeatTable's slab
  bool finishing = false;
  // The connections in the order they were made (slot and generation; those ended since stay
  // until they reach the front, or until there are twice as many as are open).
  struct Made {
    int32_t slot;
    double gen;
  };
  mutable std::deque<Made> openOrder;
  bool madeInOrder = true;
  double lastMadeFrame = -INF;
  std::vector<int32_t> finishOrder;
  size_t finishAt = 0;
  std::vector<int32_t> closedSlots;
  std::vector<double> closedGens;
  size_t closedHead = 0;
  double sweepFrom = INF;
  double baseSec = -1;
  double clock = 0;

  static bool same(const int32_t* words, const int32_t* s) { return words[3] == s[3] && words[2] == s[2] && words[1] == s[1] && words[0] == s[0]; }

  void grow(int32_t newCapacity) {
    const int32_t old = capacity;
    hot.grow(static_cast<size_t>(newCapacity));
    cold.grow(static_cast<size_t>(newCapacity) * STRIDE);
    capacity = newCapacity;
    beats.grow(static_cast<size_t>(newCapacity) * 2 * B_STRIDE);
    timing.grow(static_cast<size_t>(newCapacity) * 2 * T_STRIDE);
    for (int r = 0; r < 3; r++) spills[r].grow(static_cast<size_t>(newCapacity) * 2);
    buckets.assign(static_cast<size_t>(newCapacity) * 2, -1);
    mask = newCapacity * 2 - 1;
    for (int32_t slot = 0; slot < old; slot++)
      if (cold[static_cast<size_t>(slot) * STRIDE + C_OPEN] != 0) link(slot);
    for (int32_t slot = newCapacity - 1; slot >= old; slot--) freeSlots.push_back(slot);
  }

  void link(int32_t slot) {
    Hot& h = hot[slot];
    const int32_t b = h.hash & mask;
    h.next = buckets[b];
    buckets[b] = slot;
  }

  void unlink(int32_t slot) {
    const int32_t b = hot[slot].hash & mask;
    int32_t x = buckets[b];
    if (x == slot) {
      buckets[b] = hot[slot].next;
      return;
    }
    while (x >= 0) {
      const int32_t next = hot[x].next;
      if (next == slot) {
        hot[x].next = hot[slot].next;
        return;
      }
      x = next;
    }
  }

  int32_t create(int32_t hash, const Seg& seg) {
    if (freeSlots.empty()) grow(capacity * 2);
    const int32_t slot = freeSlots.back();
    freeSlots.pop_back();
    double* S = cold.data();
    const size_t c = static_cast<size_t>(slot) * STRIDE;
    const double gen = S[c + C_GEN] + 1;
    std::fill(S + c, S + c + STRIDE, 0.0);
    S[c + C_GEN] = gen;
    S[c + C_OPEN] = 1;
    for (size_t d = c + DIR_A; d <= c + DIR_B; d += D_STRIDE) {
      S[d + D_OFFERED_SCALE] = -1;
      S[d + D_GAVE_UP_AFTER] = -1;
    }
    Hot& h = hot[slot];
    std::memset(static_cast<void*>(&h), 0, sizeof(Hot));
    for (int i = 0; i < 4; i++) {
      h.a[i] = seg.src[i];
      h.b[i] = seg.dst[i];
    }
    h.aPort = static_cast<uint16_t>(seg.srcPort);
    h.bPort = static_cast<uint16_t>(seg.dstPort);
    h.version = static_cast<uint8_t>(seg.version);
    h.hash = hash;
    for (DirHot& d : h.dir) {
      d.window = -1;
      d.scale = 1;
      d.lastActivity = NaN;
      d.sent[0].t = -INF;
      d.sent[1].t = -INF;
    }
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
    if (seg.frame < lastMadeFrame) madeInOrder = false;
    lastMadeFrame = seg.frame;
    if (madeInOrder) {
      if (openOrder.size() >= 2 * static_cast<size_t>(open) + 1024) {
        // Keep only the open ones: the queue follows the open connections, not all there were.
        std::deque<Made> kept;
        for (const Made& m : openOrder)
          if (S[static_cast<size_t>(m.slot) * STRIDE + C_OPEN] != 0 && S[static_cast<size_t>(m.slot) * STRIDE + C_GEN] == m.gen) kept.push_back(m);
        openOrder.swap(kept);
      }
      openOrder.push_back({slot, gen});
    }
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

  void beatsClear(size_t d) { std::fill(beats.data() + d * B_STRIDE, beats.data() + (d + 1) * B_STRIDE, 0.0); }

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
    Hot& h = hot[slot];
    double* S = cold.data();
    const double t = clock;
    const size_t c = static_cast<size_t>(slot) * STRIDE;
    DirHot& s = h.dir[fromA ? 0 : 1];
    DirHot& r = h.dir[fromA ? 1 : 0];
    const size_t sd = c + (fromA ? DIR_A : DIR_B);
    const size_t rd = c + (fromA ? DIR_B : DIR_A);
    const size_t si = 2 * static_cast<size_t>(slot) + (fromA ? 0 : 1);
    const size_t ri = 2 * static_cast<size_t>(slot) + (fromA ? 1 : 0);
    const int flags = seg.flags;
    if (h.packets > 0 && t - h.lastT > h.maxGap) h.maxGap = t - h.lastT;
    h.packets++;
    h.lastFrame = seg.frame;
    h.lastSec = seg.sec;
    h.lastNsec = seg.nsec;
    h.lastT = t;

    // The same packet captured a second time (flows.ts COPY_SECONDS): a frame of the connection, nothing more.
    const double flagsLen = ((seg.ipId + 1) * 256 + flags) * 65536 + seg.payloadLen;
    const double windowSum = seg.window * 65536 + seg.checksum;
    for (const Sent& x : s.sent) {
      if (std::fabs(t - x.t) < COPY_SECONDS && x.seq == seg.seq && x.ack == seg.ack && x.flagsLen == flagsLen && x.windowSum == windowSum) {
        if (copies++ == 0) firstCopyFrame = seg.frame;
        return;
      }
    }
    s.sent[1] = s.sent[0];
    s.sent[0].t = t;
    s.sent[0].flagsLen = flagsLen;
    s.sent[0].seq = seg.seq;
    s.sent[0].ack = seg.ack;
    s.sent[0].windowSum = toU32(windowSum);

    const bool senderKnown = s.nextSeqKnown != 0;
    const uint32_t senderNext = s.nextSeq;
    // keepalive.ts looksLikeKeepalive, isOneByteZeroWindowProbe
    bool probe = senderKnown && (flags & (SYN | FIN | RST)) == 0 && seg.payloadLen <= 1 && seg.seq == senderNext - 1u;
    bool zeroWindowProbe = false;
    if (probe && r.window == 0) {
      probe = false;
      zeroWindowProbe = true;
    } else if (!probe && r.window == 0 && senderKnown && seg.payloadLen == 1 && (flags & (SYN | FIN | RST)) == 0 && seg.seq == senderNext) {
      zeroWindowProbe = true;
    }

    bool answersProbe = false;
    if (r.pending != 0 && !probe && !zeroWindowProbe) {
      // keepalive.ts replyTo
      int reply = 0;
      if ((flags & RST) != 0) reply = 2;
      else if ((flags & ACK) != 0 && static_cast<int32_t>(seg.ack - (r.pendingSeq + 1u)) >= 0) reply = 1;
      if (reply != 0) {
        r.pending = 0;
        r.fate = reply == 1 ? F_ALIVE : F_RESET;
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
      r.lastActivity = t;
      r.lastWasProbeAck = answersProbe ? 1 : 0;
      r.probeOrdinal = 0;
      if (r.fate == F_WAITING) r.fate = F_ALIVE;
    }

    if (probe) probeOf(slot, fromA, seg);
    else if (zeroWindowProbe) {
      S[sd + D_ZERO_WINDOW]++;
      zeroWindowProbes++;
    }

    if (seg.payloadLen > 0 && !probe && !zeroWindowProbe && (flags & (SYN | RST)) == 0 && (!senderKnown || !seqGt(senderNext, seg.seq))) {
      if (seg.payloadLen > HEARTBEAT_MAX_BYTES) {
        if (s.hasBeats == BEATS_ON) {
          onData(si, ri, seg.payloadLen);
          s.hasBeats = BEATS_AFTER_BULK;
          r.hasBeats = BEATS_ON;
        }
      } else {
        onData(si, ri, seg.payloadLen);
        s.hasBeats = BEATS_ON;
        r.hasBeats = BEATS_ON;
      }
    }

    if ((flags & RST) != 0) {
      if (s.fate == F_WAITING && s.probeOrdinal > 0) {
        s.fate = F_DEAD;
        S[sd + D_GAVE_UP_AFTER] = s.probeOrdinal;
        S[sd + D_GAVE_UP_FRAME] = seg.frame;
        S[sd + D_GAVE_UP_ELAPSED] = t - s.lastActivity;
        S[sd + D_GAVE_UP_PROBE_ELAPSED] = S[sd + D_LAST_PROBE_T] - s.lastActivity;
        timingAdd(si, INTERVAL, t - S[sd + D_LAST_PROBE_T]);
        s.pending = 0;
      }
      close(slot, CLOSED_RST);
      return;
    }

    if ((flags & SYN) != 0) {
      S[sd + D_SENT_SYN] = 1;
      S[sd + D_SYN_SEQ] = seg.seq;
      S[sd + D_OFFERED_SCALE] = seg.windowScale;
      if ((flags & ACK) != 0 && S[rd + D_OFFERED_SCALE] >= 0 && seg.windowScale >= 0) {
        r.scale = std::pow(2.0, std::fmin(S[rd + D_OFFERED_SCALE], 14.0));
        s.scale = std::pow(2.0, std::fmin(seg.windowScale, 14.0));
      }
    }
    // flows.ts seqAdd, `(seq + n) >>> 0`: the same 32 bits for any integer n in [0, 2^53).
    const uint32_t end = seg.seq + static_cast<uint32_t>(static_cast<uint64_t>(seg.payloadLen)) + ((flags & SYN) != 0 ? 1u : 0u) + ((flags & FIN) != 0 ? 1u : 0u);
    if (!zeroWindowProbe && (!senderKnown || seqGt(end, senderNext))) {
      s.nextSeq = end;
      s.nextSeqKnown = 1;
    }
    s.window = (flags & SYN) != 0 ? seg.window : seg.window * s.scale;
    if ((flags & ACK) != 0 && (r.nextSeqKnown == 0 || seqGt(seg.ack, r.nextSeq))) {
      r.nextSeq = seg.ack;
      r.nextSeqKnown = 1;
    }
    if ((flags & FIN) != 0) {
      s.sentFin = 1;
      if (r.sentFin != 0) close(slot, CLOSED_FIN);
    }
  }

  void probeOf(int32_t slot, bool fromA, const Seg& seg) {
    double* S = cold.data();
    DirHot& s = hot[slot].dir[fromA ? 0 : 1];
    const double t = clock;
    const size_t sd = static_cast<size_t>(slot) * STRIDE + (fromA ? DIR_A : DIR_B);
    const size_t si = 2 * static_cast<size_t>(slot) + (fromA ? 0 : 1);
    const double ordinal = static_cast<double>(++s.probeOrdinal);
    const double last = s.lastActivity;
    const bool known = !std::isnan(last);
    const double since = t - last;
    if (ordinal == 1 && known) timingAdd(si, s.lastWasProbeAck != 0 ? AFTER_ANSWER : IDLE, since);
    if (ordinal > 1) timingAdd(si, INTERVAL, t - S[sd + D_LAST_PROBE_T]);
    S[sd + D_LAST_PROBE_T] = t;
    if (ordinal > S[sd + D_MAX_ORDINAL]) S[sd + D_MAX_ORDINAL] = ordinal;
    if (seg.payloadLen == 0) S[sd + D_EMPTY]++;
    else S[sd + D_ONE_BYTE]++;
    S[sd + D_PROBES]++;
    s.pending = 1;
    s.pendingSeq = seg.seq;
    S[sd + D_PENDING_FRAME] = seg.frame;
    s.fate = F_WAITING;
    keepaliveProbes++;
  }

  void close(int32_t slot, double how) {
    double* S = cold.data();
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
      const bool current = cold[c + C_OPEN] != 0 && cold[c + C_GEN] == closedGens[closedHead];
      if (current && t - cold[c + C_CLOSE_T] <= CLOSE_GRACE_SECONDS) break;
      closedHead++;
      if (current) finalize(slot);
    }
    sweepFrom = closedHead < closedSlots.size() ? cold[static_cast<size_t>(closedSlots[closedHead]) * STRIDE + C_CLOSE_T] : INF;
    if (closedHead > 1024 && closedHead * 2 > closedSlots.size()) {
      closedSlots.erase(closedSlots.begin(), closedSlots.begin() + static_cast<std::ptrdiff_t>(closedHead));
      closedGens.erase(closedGens.begin(), closedGens.begin() + static_cast<std::ptrdiff_t>(closedHead));
      closedHead = 0;
    }
  }

  void finalize(int32_t slot) {
    const size_t c = static_cast<size_t>(slot) * STRIDE;
    if (cold[c + C_OPEN] == 0) return;
    sweepFrom = -INF;
    writeConnection(slot);
    unlink(slot);
    cold[c + C_OPEN] = 0;
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
    const double* S = cold.data();
    const Hot& h = hot[slot];
    const size_t c = static_cast<size_t>(slot) * STRIDE;
    const double fixed[CONN_FIXED] = {
        h.version == 6 ? 6.0 : 4.0,
        static_cast<double>(static_cast<uint32_t>(h.a[0])),
        static_cast<double>(static_cast<uint32_t>(h.a[1])),
        static_cast<double>(static_cast<uint32_t>(h.a[2])),
        static_cast<double>(static_cast<uint32_t>(h.a[3])),
        static_cast<double>(h.aPort),
        static_cast<double>(static_cast<uint32_t>(h.b[0])),
        static_cast<double>(static_cast<uint32_t>(h.b[1])),
        static_cast<double>(static_cast<uint32_t>(h.b[2])),
        static_cast<double>(static_cast<uint32_t>(h.b[3])),
        static_cast<double>(h.bPort),
        S[c + C_CLIENT_IS_A] != 0 ? 1.0 : 0.0,
        S[c + C_ROLES],
        S[c + C_FIRST_FRAME],
        h.lastFrame,
        S[c + C_FIRST_SEC],
        S[c + C_FIRST_NSEC],
        h.lastSec,
        h.lastNsec,
        S[c + C_FIRST_T],
        h.lastT,
        h.packets,
        h.maxGap,
        S[c + C_CLOSED_BY],
        S[c + C_CLOSE_T],
        -1,  // no probe list
    };
    out.insert(out.end(), fixed, fixed + CONN_FIXED);
    if (S[c + C_FIRST_FRAME] < outFirstFrame) outFirstFrame = S[c + C_FIRST_FRAME];
    writeDirection(h.dir[0], c + DIR_A, 2 * static_cast<size_t>(slot));
    writeDirection(h.dir[1], c + DIR_B, 2 * static_cast<size_t>(slot) + 1);
  }

  void writeDirection(const DirHot& h, size_t d, size_t i) {
    const double* S = cold.data();
    const bool gaveUp = S[d + D_GAVE_UP_AFTER] > 0;
    const double fixed[DIR_FIXED] = {
        static_cast<double>(h.nextSeq),
        h.nextSeqKnown != 0 ? 1.0 : 0.0,
        h.window,
        h.lastActivity,
        static_cast<double>(h.probeOrdinal),
        S[d + D_MAX_ORDINAL],
        static_cast<double>(h.fate),
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

// ---- Reading classic pcap records and decoding them (src/capture/pcap.ts, src/decode/*.ts) ----
// The same rules as PcapReader.next and decodeFrame, line for line, for the frames they take
// without a word: a record this cannot take as quietly (cut, too long, longer than the snaplen
// before that was said) stops the walk, and the JavaScript reader takes it from there.

constexpr int LINKTYPE_NULL = 0, LINKTYPE_ETHERNET = 1, LINKTYPE_RAW_12 = 12, LINKTYPE_RAW_14 = 14, LINKTYPE_RAW = 101, LINKTYPE_LOOP = 108,
              LINKTYPE_LINUX_SLL = 113, LINKTYPE_IPV4 = 228, LINKTYPE_IPV6 = 229, LINKTYPE_LINUX_SLL2 = 276;
constexpr int64_t NOT_IP = -1;
constexpr int IPPROTO_TCP = 6;
constexpr int64_t RECORD_HEADER_BYTES = 16;
constexpr int OPT_END = 0, OPT_NOP = 1, OPT_WSCALE = 3;

// One unaligned load and a byte swap each (byte by byte, these were a sixth of the instructions).
inline uint32_t le32(const uint8_t* b, int64_t at) {
  uint32_t x;
  std::memcpy(&x, b + at, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return __builtin_bswap32(x);
#else
  return x;
#endif
}
inline uint32_t be32(const uint8_t* b, int64_t at) { return __builtin_bswap32(le32(b, at)); }
inline uint32_t be16(const uint8_t* b, int64_t at) {
  uint16_t x;
  std::memcpy(&x, b + at, 2);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return x;
#else
  return __builtin_bswap16(x);
#endif
}
inline uint32_t u32(const uint8_t* b, int64_t at, bool le) { return le ? le32(b, at) : be32(b, at); }

/** link.ts fromEthertype. */
inline int64_t fromEthertype(uint32_t type, int64_t at, int* version) {
  if (type == 0x0800) {
    *version = 4;
    return at;
  }
  if (type == 0x86dd) {
    *version = 6;
    return at;
  }
  return NOT_IP;
}

/** link.ts ipStart for a known link type: where the IP header starts, or NOT_IP; `version` as linkIpVersion. */
int64_t ipStart(const uint8_t* b, int64_t start, int64_t end, int linkType, int* version) {
  *version = 0;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      int64_t at = start + 12;
      if (at + 2 > end) return NOT_IP;
      uint32_t type = be16(b, at);
      while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
        at += 4;
        if (at + 2 > end) return NOT_IP;
        type = be16(b, at);
      }
      return fromEthertype(type, at + 2, version);
    }
    case LINKTYPE_LINUX_SLL:
      if (start + 16 > end) return NOT_IP;
      return fromEthertype(be16(b, start + 14), start + 16, version);
    case LINKTYPE_LINUX_SLL2:
      if (start + 20 > end) return NOT_IP;
      return fromEthertype(be16(b, start), start + 20, version);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (start + 4 > end) return NOT_IP;
      const uint32_t be = be32(b, start);
      const uint32_t family = be > 0xffff ? u32(b, start, true) : be;
      if (family == 2) *version = 4;
      else if (family == 10 || family == 23 || family == 24 || family == 28 || family == 30) *version = 6;
      else return NOT_IP;
      return start + 4;
    }
    case LINKTYPE_IPV4:
      *version = 4;
      return start;
    case LINKTYPE_IPV6:
      *version = 6;
      return start;
    default:  // the raw link types
      return start;
  }
}

/** ip.ts ipv4 and ipv6: false when not a usable TCP segment; else the transport header's offset and length. */
bool ipv4(const uint8_t* b, int64_t at, int64_t end, int64_t wireLen, Seg& seg, int64_t* transportAt, int64_t* payloadLen) {
  if (at + 20 > end) return false;
  const int vihl = b[at];
  if (vihl >> 4 != 4) return false;
  const int64_t headerLen = (vihl & 0x0f) * 4;
  if (headerLen < 20 || at + headerLen > end) return false;
  if (b[at + 9] != IPPROTO_TCP) return false;
  if ((((b[at + 6] & 0x1f) << 8) | b[at + 7]) != 0) return false;
  int64_t totalLen = be16(b, at + 2);
  if (totalLen == 0) totalLen = wireLen;
  if (totalLen < headerLen) return false;
  seg.version = 4;
  seg.ipId = be16(b, at + 4);
  for (int w = 0; w < 3; w++) seg.src[w] = seg.dst[w] = 0;
  seg.src[3] = static_cast<int32_t>(be32(b, at + 12));
  seg.dst[3] = static_cast<int32_t>(be32(b, at + 16));
  *transportAt = at + headerLen;
  *payloadLen = totalLen - headerLen;
  return true;
}

bool ipv6(const uint8_t* b, int64_t at, int64_t end, int64_t wireLen, Seg& seg, int64_t* transportAt, int64_t* payloadLen) {
  if (at + 40 > end) return false;
  if (b[at] >> 4 != 6) return false;
  int64_t length = be16(b, at + 4);
  if (length == 0) length = wireLen - 40;
  int next = b[at + 6];
  int64_t p = at + 40;
  const int64_t payloadEnd = p + length;
  for (;;) {
    if (next == IPPROTO_TCP) break;
    int64_t len;
    if (next == 0 || next == 43 || next == 60) {
      if (p + 2 > end) return false;
      len = (static_cast<int64_t>(b[p + 1]) + 1) * 8;
    } else if (next == 44) {
      if (p + 8 > end) return false;
      if ((be16(b, p + 2) & 0xfff8) != 0) return false;
      len = 8;
    } else if (next == 51) {
      if (p + 2 > end) return false;
      len = (static_cast<int64_t>(b[p + 1]) + 2) * 4;
    } else {
      return false;
    }
    next = b[p];
    p += len;
    if (p > payloadEnd) return false;
  }
  seg.version = 6;
  seg.ipId = -1;
  for (int w = 0; w < 4; w++) {
    seg.src[w] = static_cast<int32_t>(be32(b, at + 8 + 4 * w));
    seg.dst[w] = static_cast<int32_t>(be32(b, at + 24 + 4 * w));
  }
  *transportAt = p;
  *payloadLen = payloadEnd - p;
  return true;
}

/** tcp.ts tcp, and readOptions' window scale for a SYN (NativeTracker.add's -1 otherwise). */
bool tcp(const uint8_t* b, int64_t at, int64_t end, int64_t tcpLen, Seg& seg) {
  if (at + 20 > end) return false;
  const int64_t headerLen = (b[at + 12] >> 4) * 4;
  if (headerLen < 20 || headerLen > tcpLen) return false;
  seg.srcPort = static_cast<int32_t>(be16(b, at));
  seg.dstPort = static_cast<int32_t>(be16(b, at + 2));
  seg.seq = be32(b, at + 4);
  seg.ack = be32(b, at + 8);
  seg.flags = b[at + 13];
  seg.window = be16(b, at + 14);
  seg.checksum = be16(b, at + 16);
  seg.payloadLen = static_cast<double>(tcpLen - headerLen);
  seg.windowScale = -1;
  if ((seg.flags & SYN) != 0) {
    const int64_t optEnd = std::min(at + headerLen, end);
    int64_t p = at + 20;
    while (p < optEnd) {
      const int kind = b[p];
      if (kind == OPT_END) break;
      if (kind == OPT_NOP) {
        p++;
        continue;
      }
      if (p + 1 >= optEnd) break;
      const int len = b[p + 1];
      if (len < 2 || p + len > optEnd) break;
      if (kind == OPT_WSCALE && len == 3) seg.windowScale = b[p + 2];
      p += len;
    }
  }
  return true;
}

/** decode.ts decodeFrame for a known link type: is it a TCP segment (then `seg` holds it)? */
bool decodeFrame(const uint8_t* b, int64_t offset, int64_t capLen, int64_t origLen, int linkType, Seg& seg) {
  int version = 0;
  const int64_t at = ipStart(b, offset, offset + capLen, linkType, &version);
  if (at < 0) return false;
  const int64_t end = offset + capLen;
  const int64_t wireLen = origLen - (at - offset);
  if (version == 0) {
    if (at >= end) return false;
    version = b[at] >> 4;
  }
  int64_t transportAt = 0, payloadLen = 0;
  const bool ok = version == 4 ? ipv4(b, at, end, wireLen, seg, &transportAt, &payloadLen) : version == 6 ? ipv6(b, at, end, wireLen, seg, &transportAt, &payloadLen) : false;
  return ok && tcp(b, transportAt, end, payloadLen, seg);
}

/** What readPcap was told and what it tells back (src/analysis/native.ts PCAP_* indices). */
constexpr int P_LITTLE_ENDIAN = 0, P_NANOSECOND = 1, P_LINK_TYPE = 2, P_SNAPLEN = 3, P_SNAPLEN_SAID = 4, P_MAX_FRAME = 5, P_FRAME_NUMBER = 6,
              P_START = 7, P_FRAMES = 8, P_SEGMENTS = 9, P_FIRST_SEC = 10, P_FIRST_NSEC = 11, P_LAST_SEC = 12, P_LAST_NSEC = 13, P_WAITING = 14,
              P_GO_ON = 15, P_STATS = 16, P_LENGTH = P_STATS + 6;

/**
 * Walk the records of b[start, end) and feed each TCP segment to the table, until a record is
 * cut by the end of the bytes or is one PcapReader.next would say something about. Frames
 * get numbers from P_FRAME_NUMBER + 1 on; P_START moves past the records taken.
 */
constexpr int64_t PREFETCH_BYTES = 2048;

/** Where readPcap stood at the start of the record it is in (readMappedWindow's way back when the file ends under it). */
struct Mark {
  int64_t at;
  double frameNumber, frames, segments, lastSec, lastNsec;
};

/** The end of the walk: what it took into p. */
inline void readPcapEnd(double* p, int64_t at, double frameNumber, double frames, double segments, double lastSec, double lastNsec) {
  if (frames > 0) {
    p[P_LAST_SEC] = lastSec;
    p[P_LAST_NSEC] = lastNsec;
  }
  p[P_FRAME_NUMBER] = frameNumber;
  p[P_START] = static_cast<double>(at);
  p[P_FRAMES] = frames;
  p[P_SEGMENTS] = segments;
}

/**
 * The records of b[start, end) that PcapReader takes without a word, each TCP segment decoded
 * and handed to `take`; p says how far it went. With `mark`, the progress before each record
 * is kept there (readMappedWindow's way back when a page vanishes under the walk).
 */
template <class Take>
void walkPcap(const uint8_t* b, int64_t start, int64_t end, double* p, volatile Mark* mark, Take&& take) {
  const bool le = p[P_LITTLE_ENDIAN] != 0;
  const bool nano = p[P_NANOSECOND] != 0;
  const int linkType = static_cast<int>(p[P_LINK_TYPE]);
  const int64_t snaplen = static_cast<int64_t>(p[P_SNAPLEN]);
  const bool snaplenSaid = p[P_SNAPLEN_SAID] != 0;
  const int64_t maxFrame = static_cast<int64_t>(p[P_MAX_FRAME]);
  double frameNumber = p[P_FRAME_NUMBER];
  double frames = 0, segments = 0, lastSec = 0, lastNsec = 0;
  int64_t at = start;
  Seg seg;
  int64_t ahead = at;
  while (end - at >= RECORD_HEADER_BYTES) {
    // The bytes come from memory (the file was read into them on another thread): ask for the
    // cache lines 2 KiB ahead, every one, so that the next headers are at hand when parsed.
    // The 2 M bench's packets: 0.40-0.45 s without, 0.25-0.28 s with (1-8 KiB ahead alike).
    for (const int64_t until = std::min(end, at + PREFETCH_BYTES); ahead < until; ahead += 64) __builtin_prefetch(b + ahead);
    if (mark != nullptr) {
      // What `take` did for the records before is done when the signal handler looks.
      std::atomic_signal_fence(std::memory_order_seq_cst);
      mark->at = at;
      mark->frameNumber = frameNumber;
      mark->frames = frames;
      mark->segments = segments;
      mark->lastSec = lastSec;
      mark->lastNsec = lastNsec;
    }
    const int64_t capLen = u32(b, at + 8, le);
    if (capLen > maxFrame || end - at < RECORD_HEADER_BYTES + capLen) break;
    if (capLen > snaplen && snaplen != 0 && !snaplenSaid) break;
    double sec = u32(b, at, le);
    const uint32_t frac = u32(b, at + 4, le);
    int64_t origLen = u32(b, at + 12, le);
    double ns = nano ? frac : static_cast<double>(frac) * 1000;
    if (ns >= 1e9) {
      sec += std::floor(ns / 1e9);
      ns = std::fmod(ns, 1e9);
    }
    if (origLen < capLen) origLen = capLen;
    frameNumber++;
    frames++;
    if (frames == 1 && p[P_FIRST_SEC] < 0) {
      p[P_FIRST_SEC] = sec;
      p[P_FIRST_NSEC] = ns;
    }
    lastSec = sec;
    lastNsec = ns;
    if (decodeFrame(b, at + RECORD_HEADER_BYTES, capLen, origLen, linkType, seg)) {
      segments++;
      seg.frame = frameNumber;
      seg.sec = sec;
      seg.nsec = ns;
      take(seg);
    }
    at += RECORD_HEADER_BYTES + capLen;
  }
  readPcapEnd(p, at, frameNumber, frames, segments, lastSec, lastNsec);
}

/** walkPcap into the table; P_WAITING gets the doubles of the connections waiting to be taken. */
void readPcap(Table& t, const uint8_t* b, int64_t start, int64_t end, double* p) {
  walkPcap(b, start, end, p, nullptr, [&t](const Seg& seg) { t.add(seg); });
  p[P_WAITING] = static_cast<double>(t.out.size());
}

// ---- Reading a mapped file on another thread ----
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older kernels refuse it, and page faults do the work
#endif

/** The table's stats (open, probes, zero-window probes, copies, first copy frame, oldest open frame) into `into`. */
void statsInto(const Table& t, double* into, bool withOldest) {
  into[0] = t.open;
  into[1] = t.keepaliveProbes;
  into[2] = t.zeroWindowProbes;
  into[3] = t.copies;
  into[4] = t.firstCopyFrame;
  into[5] = withOldest ? t.oldestOpenFrame() : NaN;
}

/**
 * The records of the mapped file from P_START to at most `window` bytes further, as readPcap
 * takes them, their TCP segments decoded into `segs` (the table's thread feeds them to the
 * table); P_GO_ON is 1 when it stopped only because the window ended inside a record (the
 * next window takes it), 0 when the JavaScript reader must go on from P_START (a record it has
 * a word about, the end of the file, or a record the end cuts). The file's offset is moved to
 * P_START, where the progress bar looks and the JavaScript reader goes on. Touches nothing of
 * the table but the mapping.
 */
/**
 * A mapped file that shrinks while it is read (another program truncates it: tcpdump -W reuses
 * its ring buffer's files) turns the next read of a page past its new end into SIGBUS. On the
 * decoding thread, inside decodeMappedWindow, the handler jumps back there, and the window ends at
 * the record it was in, as if the file ended there: the JavaScript reader goes on from it and
 * finds the end (a cut record says so). Anywhere else the handler puts back what was there
 * before and returns, so that the fault happens again under it.
 */
thread_local sigjmp_buf* mappedJump = nullptr;
struct sigaction busBefore;
std::once_flag busOnce;

void onBus(int, siginfo_t*, void*) {
  if (mappedJump != nullptr) siglongjmp(*mappedJump, 1);
  sigaction(SIGBUS, &busBefore, nullptr);
}

void catchBus() {
  std::call_once(busOnce, [] {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = onBus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &busBefore);
  });
}

void decodeMappedWindow(Table& t, double* p, int64_t window, std::vector<Seg>& segs) {
  const int64_t start = static_cast<int64_t>(p[P_START]);
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  volatile Mark mark = {start, p[P_FRAME_NUMBER], 0, 0, 0, 0};
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1) == 0) {
    mappedJump = &jump;
    // The file as it is now: mapped when it was this long, but it may have shrunk since (past
    // its end the last page reads as zeros, the next ones fault).
    int64_t fileEnd = t.mapSize;
    struct stat st;
    if (fstat(t.mapFd, &st) == 0 && st.st_size < fileEnd) fileEnd = st.st_size < start ? start : static_cast<int64_t>(st.st_size);
    int64_t end = std::min(fileEnd, start + window);
    // A window holds one record at least (else a record longer than the window would stop it for good).
    if (fileEnd - start >= RECORD_HEADER_BYTES) {
      const int64_t capLen = u32(t.mapData, start + 8, p[P_LITTLE_ENDIAN] != 0);
      if (capLen <= static_cast<int64_t>(p[P_MAX_FRAME])) end = std::max(end, std::min(fileEnd, start + RECORD_HEADER_BYTES + capLen));
    }
    const uintptr_t from = reinterpret_cast<uintptr_t>(t.mapData + start) & ~(page - 1);
    madvise(reinterpret_cast<void*>(from), static_cast<size_t>(reinterpret_cast<uintptr_t>(t.mapData + end) - from), MADV_POPULATE_READ);
    walkPcap(t.mapData, start, end, p, &mark, [&segs](const Seg& seg) { segs.push_back(seg); });
    const int64_t at = static_cast<int64_t>(p[P_START]);
    bool goOn = false;
    if (end < fileEnd) {
      if (end - at < RECORD_HEADER_BYTES) {
        goOn = true;
      } else {
        const int64_t capLen = u32(t.mapData, at + 8, p[P_LITTLE_ENDIAN] != 0);
        goOn = capLen <= static_cast<int64_t>(p[P_MAX_FRAME]) && end - at < RECORD_HEADER_BYTES + capLen;
      }
    }
    mappedJump = nullptr;
    p[P_GO_ON] = goOn ? 1 : 0;
  } else {
    // The file ended under the reading: what came before the record it was in stands.
    mappedJump = nullptr;
    readPcapEnd(p, mark.at, mark.frameNumber, mark.frames, mark.segments, mark.lastSec, mark.lastNsec);
    if (segs.size() > static_cast<size_t>(mark.segments)) segs.resize(static_cast<size_t>(mark.segments));
    p[P_GO_ON] = 0;
  }
  const int64_t at = static_cast<int64_t>(p[P_START]);
  // Let the pages read go (they would count in the process's resident memory until unmapped,
  // the whole file in the end): all but the one the next record starts in.
  const uintptr_t done = reinterpret_cast<uintptr_t>(t.mapData + at) & ~(page - 1);
  const uintptr_t first = reinterpret_cast<uintptr_t>(t.mapData);
  if (done - first > t.released) {
    madvise(reinterpret_cast<void*>(first + t.released), done - first - t.released, MADV_DONTNEED);
    t.released = done - first;
  }
  lseek(t.mapFd, static_cast<off_t>(at), SEEK_SET);
}

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

void stopReader(Table* t);

void finalizeTable(napi_env, void* data, void*) {
  Table* t = static_cast<Table*>(data);
  stopReader(t);
  delete t;
}

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

/** The call's first `n` arguments into argv (missing ones undefined), and the table the first names; null when it threw. */
Table* callOn(napi_env env, napi_callback_info info, size_t n, napi_value* argv) {
  size_t argc = n;
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  Table* t = tableOf(env, argv[0]);
  if (t != nullptr && t->running) {
    napi_throw_error(env, nullptr, "native table: a thread is reading a mapped file into it (stopMapped first)");
    return nullptr;
  }
  return t;
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
  napi_value argv[3];
  Table* t = callOn(env, info, 3, argv);
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
    s.seq = toU32(g[G_SEQ]);
    s.ack = toU32(g[G_ACK]);
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
 * take's and takeWindow's work: argv[1..3] are into, at, info; the doubles `d` go into `into`
 * from `at` (it must have room), info gets `finished` and `firstFrame`, and they are forgotten.
 */
bool copyOut(napi_env env, napi_value* argv, std::vector<double>& d, double& finished, double& firstFrame) {
  double* into = nullptr;
  size_t length = 0;
  if (!float64s(env, argv[1], &into, &length)) return false;
  uint32_t at = 0;
  if (!ok(env, napi_get_value_uint32(env, argv[2], &at))) return false;
  double* result = nullptr;
  size_t resultLength = 0;
  if (!float64s(env, argv[3], &result, &resultLength)) return false;
  if (at > length || length - at < d.size() || resultLength < 2) {
    napi_throw_range_error(env, nullptr, "native table: no room for the connections waiting");
    return false;
  }
  if (!d.empty()) std::memcpy(into + at, d.data(), d.size() * sizeof(double));
  result[0] = finished;
  result[1] = firstFrame;
  d.clear();
  finished = 0;
  firstFrame = INF;
  return true;
}

/**
 * take(table, into: Float64Array, at, info: Float64Array(2)): copy the finished connections into
 * `into` from double `at` on (it must have room), forget them; info gets how many and their
 * lowest first frame.
 */
napi_value Take(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Table* t = callOn(env, info, 4, argv);
  if (t == nullptr) return nullptr;
  copyOut(env, argv, t->out, t->finished, t->outFirstFrame);
  return nullptr;
}

/** finish(table): finalise the next open connections (FINISH_STEP at most, in order of first frame); returns the doubles waiting, -1 when none was left. */
napi_value Finish(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Table* t = callOn(env, info, 1, argv);
  if (t == nullptr) return nullptr;
  const bool more = t->finish(FINISH_STEP);
  return number(env, !more && t->out.empty() ? -1.0 : static_cast<double>(t->out.size()));
}

/** stats(table, into: Float64Array(6)): open, keepalive probes, zero-window probes, copies, first copy frame, oldest open frame. */
napi_value Stats(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Table* t = callOn(env, info, 3, argv);
  if (t == nullptr) return nullptr;
  double* into = nullptr;
  size_t length = 0;
  if (!float64s(env, argv[1], &into, &length)) return nullptr;
  if (length < 6) {
    napi_throw_range_error(env, nullptr, "native table: stats need 6 doubles");
    return nullptr;
  }
  bool withOldest = false;
  napi_get_value_bool(env, argv[2], &withOldest);  // false when not a boolean (missing arguments are undefined)
  statsInto(*t, into, withOldest);
  return nullptr;
}

/** mapFile(table, fd): map the regular file open on `fd` for startMapped; returns its size, or -1 when it cannot be mapped. */
napi_value MapFile(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Table* t = callOn(env, info, 2, argv);
  if (t == nullptr) return nullptr;
  int32_t fd = -1;
  if (!ok(env, napi_get_value_int32(env, argv[1], &fd))) return nullptr;
  t->unmap();
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return number(env, -1);
  void* data = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED) return number(env, -1);
  t->mapData = static_cast<const uint8_t*>(data);
  t->mapSize = static_cast<int64_t>(st.st_size);
  t->mapFd = fd;
  return number(env, static_cast<double>(t->mapSize));
}

/** unmap(table): forget the mapped file. */
napi_value Unmap(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Table* t = callOn(env, info, 1, argv);
  if (t == nullptr) return nullptr;
  t->unmap();
  return nullptr;
}

/**
 * The thread that reads a mapped file (startMapped): window after window into the table, each
 * window's finished connections and parameters queued for JavaScript (nextWindow, takeWindow),
 * at most MAX_QUEUED ahead of it, and a call of `wake` on the JavaScript thread for each.
 */
constexpr size_t MAX_QUEUED = 4;

struct Window {
  std::vector<double> doubles;
  double finished = 0, firstFrame = INF;
  double p[P_LENGTH];
};

/** A window's decoded segments on their way from the decoding thread to the table's, and the window's parameters. */
struct Decoded {
  std::vector<Seg> segs;
  double p[P_LENGTH];
};

/** Windows decoded ahead of the table's thread. */
constexpr size_t MAX_DECODED = 2;

/**
 * The threads of a mapped reading: one walks the records and decodes them a window at a time
 * (decoderLoop), the other feeds the segments to the table and queues each window's finished
 * connections for the JavaScript thread (readerLoop). Decoding is a third of the work on the 2 M
 * bench (0.07 s of 0.22 s in a harness), so the two overlap on two cores.
 */
struct Reader {
  std::thread thread;
  std::thread decoder;
  std::mutex m;
  std::condition_variable cv;
  std::deque<Window> queue;
  Window current;
  std::deque<Decoded> decoded;
  std::vector<std::vector<Seg>> spare;
  /** Doubles of windows taken, to be the table's `out` again (a new one grew page by page, each window). */
  std::vector<std::vector<double>> spareOut;
  bool cancel = false;
  napi_threadsafe_function wake = nullptr;
};

void decoderLoop(Table* t, Reader* r, double* start, int64_t window) {
  Decoded d;
  std::memcpy(d.p, start, sizeof(d.p));
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(r->m);
      r->cv.wait(lock, [r] { return r->cancel || r->decoded.size() < MAX_DECODED; });
      if (r->cancel) break;
      if (!r->spare.empty()) {
        d.segs.swap(r->spare.back());
        r->spare.pop_back();
      }
    }
    d.segs.clear();
    decodeMappedWindow(*t, d.p, window, d.segs);
    const bool last = d.p[P_GO_ON] == 0;
    Decoded next;
    std::memcpy(next.p, d.p, sizeof(d.p));
    {
      std::lock_guard<std::mutex> lock(r->m);
      r->decoded.push_back(std::move(d));
    }
    r->cv.notify_all();
    if (last) break;
    d = std::move(next);
  }
}

void readerLoop(Table* t, Reader* r) {
  for (;;) {
    Decoded d;
    {
      std::unique_lock<std::mutex> lock(r->m);
      r->cv.wait(lock, [r] { return r->cancel || (!r->decoded.empty() && r->queue.size() < MAX_QUEUED); });
      if (r->cancel) break;
      d = std::move(r->decoded.front());
      r->decoded.pop_front();
    }
    r->cv.notify_all();
    for (const Seg& seg : d.segs) t->add(seg);
    statsInto(*t, d.p + P_STATS, true);
    d.p[P_WAITING] = static_cast<double>(t->out.size());
    Window w;
    w.doubles.swap(t->out);
    w.finished = t->finished;
    w.firstFrame = t->outFirstFrame;
    t->finished = 0;
    t->outFirstFrame = INF;
    std::memcpy(w.p, d.p, sizeof(d.p));
    const bool last = d.p[P_GO_ON] == 0;
    {
      std::lock_guard<std::mutex> lock(r->m);
      r->queue.push_back(std::move(w));
      r->spare.push_back(std::move(d.segs));
      if (!r->spareOut.empty()) {
        t->out.swap(r->spareOut.back());
        r->spareOut.pop_back();
      }
    }
    r->cv.notify_all();
    napi_call_threadsafe_function(r->wake, nullptr, napi_tsfn_nonblocking);
    if (last) break;
  }
  napi_release_threadsafe_function(r->wake, napi_tsfn_release);
}

void callWake(napi_env env, napi_value js, void*, void*) {
  if (env == nullptr || js == nullptr) return;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, js, 0, nullptr, nullptr);
}

/** The reader of the table named by argv[0] (null, after throwing, when it has none). */
Reader* readerOf(napi_env env, napi_callback_info info, size_t n, napi_value* argv) {
  size_t argc = n;
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  Table* t = tableOf(env, argv[0]);
  if (t == nullptr) return nullptr;
  if (t->reader == nullptr) {
    napi_throw_error(env, nullptr, "native table: no mapped file is being read");
    return nullptr;
  }
  return static_cast<Reader*>(t->reader);
}

/** Stop the reading thread (it ends after the window it is in) and forget it. */
void stopReader(Table* t) {
  Reader* r = static_cast<Reader*>(t->reader);
  if (r == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(r->m);
    r->cancel = true;
  }
  r->cv.notify_all();
  if (r->decoder.joinable()) r->decoder.join();
  if (r->thread.joinable()) r->thread.join();
  delete r;
  t->reader = nullptr;
  t->running = false;
}

/**
 * startMapped(table, params: Float64Array(P_LENGTH), window, wake): read the mapped file from
 * params[P_START] on, `window` bytes at a time, on a thread of its own; `wake` is called on
 * this thread whenever a window is queued. Until stopMapped, every call on the table but
 * nextWindow, takeWindow and stopMapped throws.
 */
napi_value StartMapped(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Table* t = callOn(env, info, 4, argv);
  if (t == nullptr) return nullptr;
  double* p = nullptr;
  size_t plen = 0;
  if (!float64s(env, argv[1], &p, &plen)) return nullptr;
  double window = 0;
  if (!ok(env, napi_get_value_double(env, argv[2], &window))) return nullptr;
  if (t->mapData == nullptr || t->reader != nullptr || plen < P_LENGTH || !(p[P_START] >= 0 && p[P_START] <= static_cast<double>(t->mapSize)) || !(window >= 1)) {
    napi_throw_range_error(env, nullptr, "native table: startMapped needs a mapped file, bounds within it and no reading under way");
    return nullptr;
  }
  catchBus();
  Reader* r = new Reader();
  napi_value name;
  napi_create_string_utf8(env, "keepalive:mapped", NAPI_AUTO_LENGTH, &name);
  if (!ok(env, napi_create_threadsafe_function(env, argv[3], nullptr, name, 0, 1, nullptr, nullptr, nullptr, callWake, &r->wake))) {
    delete r;
    return nullptr;
  }
  t->reader = r;
  t->running = true;
  r->decoder = std::thread(decoderLoop, t, r, p, static_cast<int64_t>(window));
  r->thread = std::thread(readerLoop, t, r);
  return nullptr;
}

/** nextWindow(table, params): the oldest window queued becomes the current one, its parameters into params; the doubles of its finished connections, or -1 when none is queued yet. */
napi_value NextWindow(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Reader* r = readerOf(env, info, 2, argv);
  if (r == nullptr) return nullptr;
  double* p = nullptr;
  size_t plen = 0;
  if (!float64s(env, argv[1], &p, &plen)) return nullptr;
  if (plen < P_LENGTH) {
    napi_throw_range_error(env, nullptr, "native table: nextWindow's parameters are too short");
    return nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(r->m);
    if (r->queue.empty()) return number(env, -1);
    if (r->current.doubles.capacity() > 0 && r->spareOut.size() < MAX_QUEUED) {
      r->current.doubles.clear();
      r->spareOut.push_back(std::move(r->current.doubles));
    }
    r->current = std::move(r->queue.front());
    r->queue.pop_front();
  }
  r->cv.notify_all();
  std::memcpy(p, r->current.p, sizeof(r->current.p));
  return number(env, static_cast<double>(r->current.doubles.size()));
}

/** takeWindow(table, into: Float64Array, at, info: Float64Array(2)): the current window's connections into `into` from `at` (as take does). */
napi_value TakeWindow(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Reader* r = readerOf(env, info, 4, argv);
  if (r == nullptr) return nullptr;
  copyOut(env, argv, r->current.doubles, r->current.finished, r->current.firstFrame);
  return nullptr;
}

/** stopMapped(table): stop the reading thread (after the window it is in) and drop what it queued; the table is JavaScript's again. */
napi_value StopMapped(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t argc = 1;
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  Table* t = tableOf(env, argv[0]);
  if (t == nullptr) return nullptr;
  stopReader(t);
  return nullptr;
}

/**
 * readPcap(table, bytes: Uint8Array, end, params: Float64Array(P_LENGTH)): the records of
 * bytes[params[P_START], end) into the table (readPcap above); params tell the file's format and
 * get back how far it went, the frames and segments taken, their times and the doubles waiting.
 */
napi_value ReadPcap(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Table* t = callOn(env, info, 4, argv);
  if (t == nullptr) return nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* raw = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (!ok(env, napi_get_typedarray_info(env, argv[1], &type, &length, &raw, &buffer, &offset))) return nullptr;
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "native table: a Uint8Array was expected");
    return nullptr;
  }
  uint32_t end = 0;
  if (!ok(env, napi_get_value_uint32(env, argv[2], &end))) return nullptr;
  double* p = nullptr;
  size_t plen = 0;
  if (!float64s(env, argv[3], &p, &plen)) return nullptr;
  if (plen < P_LENGTH || end > length || !(p[P_START] >= 0 && p[P_START] <= end)) {
    napi_throw_range_error(env, nullptr, "native table: readPcap's bounds are wrong");
    return nullptr;
  }
  readPcap(*t, static_cast<const uint8_t*>(raw), static_cast<int64_t>(p[P_START]), end, p);
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"create", nullptr, Create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"add", nullptr, Add, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"take", nullptr, Take, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"finish", nullptr, Finish, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"readPcap", nullptr, ReadPcap, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"mapFile", nullptr, MapFile, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unmap", nullptr, Unmap, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"startMapped", nullptr, StartMapped, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"nextWindow", nullptr, NextWindow, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"takeWindow", nullptr, TakeWindow, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stopMapped", nullptr, StopMapped, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"csvRows", nullptr, CsvRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rowStore", nullptr, CreateRowStore, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"storeRow", nullptr, StoreRow, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"storedRows", nullptr, StoredRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"releaseRows", nullptr, ReleaseRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"formatNumber", nullptr, FormatNumber, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value layout;
  napi_create_object(env, &layout);
  napi_set_named_property(env, layout, "segmentStride", number(env, G_STRIDE));
  napi_set_named_property(env, layout, "pcapParams", number(env, P_LENGTH));
  napi_set_named_property(env, layout, "rowInfo", number(env, ROW_INFO));
  napi_set_named_property(env, exports, "layout", layout);
  if (!ok(env, napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props))) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
