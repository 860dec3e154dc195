// CSV rows of finished connections, made from the doubles the table hands out (handoff.ts's
// layout): what src/report/csv.ts csvRow makes of src/analysis/timeline.ts connectionReport,
// character for character, for `keepalive analyze --format csv`. Numbers are written as
// JavaScript writes them (Number::toString, Number.prototype.toFixed), and every rule of
// timeline.ts, heartbeat.ts and lint.ts that a CSV column shows is followed line for line. A
// connection this cannot write exactly (a time outside the years 0-9999, a field out of its
// range) gets no row: the TypeScript report makes it.
#include "rows.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace rows {

// ---- Numbers as JavaScript writes them ----

void jsNumber(std::string& o, double x) {
  if (std::isnan(x)) {
    o += "NaN";
    return;
  }
  if (x == 0) {  // -0 too
    o += '0';
    return;
  }
  if (x < 0) {
    o += '-';
    x = -x;
  }
  if (std::isinf(x)) {
    o += "Infinity";
    return;
  }
  char b[40];
  if (x < 9007199254740992.0 && x == std::floor(x)) {
    const auto r = std::to_chars(b, b + sizeof b, static_cast<uint64_t>(x));
    o.append(b, r.ptr);
    return;
  }
  // Shortest digits that read back as x (the closest of them), as ECMA-262 Number::toString asks.
  const auto r = std::to_chars(b, b + sizeof b, x, std::chars_format::scientific);
  const char* e = static_cast<const char*>(std::memchr(b, 'e', static_cast<size_t>(r.ptr - b)));
  char digits[24];
  int k = 0;
  for (const char* p = b; p < e; p++)
    if (*p != '.') digits[k++] = *p;
  int exp = 0;
  std::from_chars(e[1] == '+' ? e + 2 : e + 1, r.ptr, exp);
  const int n = exp + 1;
  if (k <= n && n <= 21) {
    o.append(digits, static_cast<size_t>(k));
    o.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    o.append(digits, static_cast<size_t>(n));
    o += '.';
    o.append(digits + n, static_cast<size_t>(k - n));
  } else if (-6 < n && n <= 0) {
    o += "0.";
    o.append(static_cast<size_t>(-n), '0');
    o.append(digits, static_cast<size_t>(k));
  } else {
    o += digits[0];
    if (k > 1) {
      o += '.';
      o.append(digits + 1, static_cast<size_t>(k - 1));
    }
    o += 'e';
    o += n - 1 < 0 ? '-' : '+';
    const auto q = std::to_chars(b, b + sizeof b, std::abs(n - 1));
    o.append(b, q.ptr);
  }
}

void toFixed(std::string& o, double x, int f) {
  if (std::isnan(x) || !(std::fabs(x) < 1e21)) {
    jsNumber(o, x);
    return;
  }
  if (x < 0) {
    o += '-';
    x = -x;
  }
  if (x == 0) x = 0;  // -0 writes as 0
  char b[48];
  // The nearest n / 10^f, the larger n on a tie (printf's rounding takes the even one): a tie is
  // x × 2 × 10^f an odd integer, exact in a long double (5^f × 53 bits < 64 bits for f ≤ 3).
  static const long double twice[] = {2.0L, 20.0L, 200.0L, 2000.0L};
  if (f >= 0 && f <= 3 && x < 4503599627370496.0) {
    const long double y = static_cast<long double>(x) * twice[f];
    if (y == floorl(y) && fmodl(y, 2.0L) == 1.0L) {
      const uint64_t n = (static_cast<uint64_t>(y) + 1) / 2;
      auto r = std::to_chars(b, b + sizeof b, n);
      std::string s(b, r.ptr);
      if (f > 0) {
        if (s.size() < static_cast<size_t>(f) + 1) s.insert(0, static_cast<size_t>(f) + 1 - s.size(), '0');
        s.insert(s.size() - static_cast<size_t>(f), 1, '.');
      }
      o += s;
      return;
    }
  }
  const auto r = std::to_chars(b, b + sizeof b, x, std::chars_format::fixed, f);
  o.append(b, r.ptr);
}

/** units.ts trimmed: toFixed(digits), trailing zeros (and a bare '.') dropped. */
void trimmed(std::string& o, double x, int digits) {
  std::string s;
  toFixed(s, x, digits);
  if (s.find('.') != std::string::npos) {
    size_t end = s.size();
    while (s[end - 1] == '0') end--;
    if (s[end - 1] == '.') end--;
    s.resize(end);
  }
  o += s;
}

/** units.ts seconds, for a number. */
void seconds(std::string& o, double x) {
  const double a = std::fabs(x);
  if (a == 0) {
    o += "0 s";
  } else if (a < 0.001) {
    trimmed(o, x * 1e6, 0);
    o += " \xC2\xB5s";
  } else if (a < 1) {
    trimmed(o, x * 1000, 1);
    o += " ms";
  } else if (a < 100) {
    trimmed(o, x, 3);
    o += " s";
  } else {
    trimmed(o, x, 0);
    o += " s";
  }
}

/** Math.round: the nearest integer, the one towards +∞ on a tie (-0 for -0.5 ≤ x < 0). */
double jsRound(double x) {
  if (!std::isfinite(x) || std::fabs(x) >= 4503599627370496.0) return x;
  double r = std::floor(x);
  if (x - r >= 0.5) r += 1;
  if (r == 0 && std::signbit(x)) return -0.0;
  return r;
}

double roundSeconds(double x) { return jsRound(x * 1e6) / 1e6; }

/** bounded.ts medianOf: insertion-sorted copy (the same comparisons, so NaN lands where it does there). */
double medianOf(const double* values, int n, std::vector<double>& s) {
  if (n == 0) return NAN;
  s.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    const double x = values[i];
    int j = i - 1;
    while (j >= 0 && s[static_cast<size_t>(j)] > x) {
      s[static_cast<size_t>(j) + 1] = s[static_cast<size_t>(j)];
      j--;
    }
    s[static_cast<size_t>(j) + 1] = x;
  }
  const int m = n >> 1;
  return n % 2 == 1 ? s[static_cast<size_t>(m)] : (s[static_cast<size_t>(m) - 1] + s[static_cast<size_t>(m)]) / 2;
}

// ---- The connection as handoff.ts writes it ----

constexpr int CONN_FIXED = 26, DIR_FIXED = 20, BEATS_FIXED = 5, PROBE = 12;
constexpr int SAMPLE_CAPACITY = 256, BEAT_RING = 8;
constexpr double FATE_ALIVE = 1, FATE_WAITING = 2, FATE_DEAD = 3, FATE_RESET = 4;

struct Ring {
  double count = 0;
  int kept = 0;
  const double* values = nullptr;
};

struct Dir {
  const double* f = nullptr;  // DIR_FIXED doubles
  Ring idle, afterAnswer, interval;
  bool beats = false;
  double beatCount = 0, replies = 0, quietGaps = 0, gapsSeen = 0;
  Ring gaps, sizes, replySizes;

  double probeOrdinal() const { return f[4]; }
  double maxOrdinal() const { return f[5]; }
  double fate() const { return f[6]; }
  double gaveUpAfter() const { return f[7]; }
  double gaveUpFrame() const { return f[8]; }
  double zeroWindowProbes() const { return f[11]; }
  double emptyProbes() const { return f[12]; }
  double oneByteProbes() const { return f[13]; }
  double probes() const { return f[14]; }
  double acked() const { return f[15]; }
  double resetProbes() const { return f[16]; }
  double resetProbeFrame() const { return f[17]; }
  double resetReplyFrame() const { return f[18]; }
};

struct Conn {
  const double* f = nullptr;  // CONN_FIXED doubles
  Dir a, b;
  bool clientIsA() const { return f[11] != 0; }
  const Dir& client() const { return clientIsA() ? a : b; }
  const Dir& server() const { return clientIsA() ? b : a; }
};

/** SampleRing.readFrom: false when the ring does not fit the doubles or its capacity. */
bool readRing(const double* s, size_t length, size_t& at, int capacity, Ring& r) {
  if (at + 2 > length) return false;
  const double kept = s[at + 1];
  if (!(kept >= 0 && kept <= capacity) || kept != std::floor(kept)) return false;
  r.count = s[at];
  r.kept = static_cast<int>(kept);
  r.values = s + at + 2;
  at += 2 + static_cast<size_t>(r.kept);
  return at <= length;
}

bool readDir(const double* s, size_t length, size_t& at, Dir& d) {
  if (at + DIR_FIXED > length) return false;
  d.f = s + at;
  at += DIR_FIXED;
  if (!readRing(s, length, at, SAMPLE_CAPACITY, d.idle) || !readRing(s, length, at, SAMPLE_CAPACITY, d.afterAnswer) ||
      !readRing(s, length, at, SAMPLE_CAPACITY, d.interval) || at >= length)
    return false;
  d.beats = s[at++] != 0;
  if (!d.beats) return true;
  if (at + BEATS_FIXED > length) return false;
  d.beatCount = s[at];
  d.replies = s[at + 1];
  d.quietGaps = s[at + 2];
  d.gapsSeen = s[at + 3];
  at += BEATS_FIXED;
  return readRing(s, length, at, BEAT_RING, d.gaps) && readRing(s, length, at, BEAT_RING, d.sizes) && readRing(s, length, at, BEAT_RING, d.replySizes);
}

/** readConnection's walk: false when the connection does not fit in the doubles. */
bool readConn(const double* s, size_t length, size_t& at, Conn& c) {
  if (at + CONN_FIXED > length) return false;
  c.f = s + at;
  at += CONN_FIXED;
  if (!readDir(s, length, at, c.a) || !readDir(s, length, at, c.b)) return false;
  if (c.f[25] >= 0) {
    if (at >= length) return false;
    const double n = s[at++];
    if (!(n >= 0 && n <= static_cast<double>((length - at) / PROBE))) return false;
    at += static_cast<size_t>(n) * PROBE;
  }
  return true;
}

// ---- timeline.ts, heartbeat.ts, lint.ts: what the CSV columns show ----

struct Opt {
  bool has = false;
  double v = 0;
};

struct Settings {
  Opt idle, interval, intervalAtMost, count, countAtLeast;
  const char* style = "";
  const char* defaults = nullptr;
  double probes = 0, acked = 0, unanswered = 0;
};

bool clearlyLonger(double x, double than) { return x > than * 1.1 + 0.01; }
bool near(const Opt& x, double want) { return x.has && std::fabs(x.v - want) <= 0.1 * want; }

struct Work {
  std::vector<double> scratch, distances;
  std::string row, text;
  double median(const Ring& r) { return medianOf(r.values, r.kept, scratch); }
};

/** timeline.ts inferSettings, the figures a row shows; false when the side sent no probe. */
bool inferSettings(const Dir& d, Settings& s, Work& w) {
  if (d.probes() == 0) return false;
  Opt answeredGap;
  if (d.afterAnswer.count > 0) answeredGap = {true, w.median(d.afterAnswer)};
  Opt interval;
  if (d.interval.count > 0) interval = {true, w.median(d.interval)};
  Opt idle;
  if (d.idle.count > 0) {
    idle = {true, w.median(d.idle)};
  } else if (answeredGap.has && (!interval.has || clearlyLonger(answeredGap.v, interval.v))) {
    idle = answeredGap;
  }
  Opt intervalAtMost;
  if (!interval.has && answeredGap.has && idle.has && d.idle.count > 0) {
    if (clearlyLonger(answeredGap.v, idle.v)) interval = answeredGap;
    else intervalAtMost = {true, roundSeconds(answeredGap.v)};
  }
  Opt count;
  if (d.gaveUpAfter() > 0) count = {true, d.gaveUpAfter()};
  s.style = d.oneByteProbes() == 0 ? "linux" : d.emptyProbes() == 0 ? "windows" : "mixed";
  s.idle = idle.has ? Opt{true, roundSeconds(idle.v)} : Opt{};
  s.interval = interval.has ? Opt{true, roundSeconds(interval.v)} : Opt{};
  s.intervalAtMost = intervalAtMost;
  s.count = count;
  s.countAtLeast = d.maxOrdinal() > 0 ? Opt{true, d.maxOrdinal()} : Opt{};
  struct Known {
    const char* name;
    double idle, interval, count;
  };
  static const Known known[] = {{"linux", 7200, 75, 9}, {"windows", 7200, 1, 10}, {"macos", 7200, 75, 8}};
  s.defaults = nullptr;
  for (const Known& k : known) {
    if (near(s.idle, k.idle) && (!s.interval.has || near(s.interval, k.interval)) && (!count.has || count.v == k.count)) {
      if (!s.interval.has && !count.has && std::strcmp(k.name, "linux") != 0) continue;
      s.defaults = k.name;
      break;
    }
  }
  s.probes = d.probes();
  s.acked = d.acked();
  s.unanswered = d.probes() - d.acked() - d.resetProbes();
  return true;
}

struct Beat {
  bool has = false;
  double period = 0, count = 0;
  const char* from = "";
};

/** heartbeat.ts BeatTrack.summary: the period and count of this side's heartbeat, if it has one. */
Beat beatOf(const Dir& d, const char* from, Work& w) {
  Beat none;
  if (!d.beats) return none;
  if (d.beatCount < 4) return none;
  const double period = w.median(d.gaps);
  if (period < 0.5) return none;
  // SampleRing.medianDistance: the median distance of the kept gaps from it.
  w.distances.resize(static_cast<size_t>(d.gaps.kept));
  for (int i = 0; i < d.gaps.kept; i++) w.distances[static_cast<size_t>(i)] = std::fabs(d.gaps.values[i] - period);
  const double jitter = medianOf(w.distances.data(), d.gaps.kept, w.scratch) / period;
  if (jitter > 0.15) return none;
  if (d.quietGaps < 0.75 * d.gapsSeen) return none;
  return Beat{true, jsRound(period * 1e6) / 1e6, d.beatCount, from};
}

const char* const VERDICTS[] = {"alive", "dead", "reset", "undetermined", "closed", "no-keepalive"};
const char* const VERDICT_WORDS[] = {"Alive", "Dead", "Reset", "Undetermined", "Closed", "No keepalive"};
enum { ALIVE, DEAD, RESET, UNDETERMINED, CLOSED, NO_KEEPALIVE };

int verdictOf(const Conn& c, const char* closedBy) {
  const double a = c.a.fate(), b = c.b.fate();
  if (a == FATE_RESET || b == FATE_RESET) return RESET;
  if (a == FATE_DEAD || b == FATE_DEAD) return DEAD;
  if (a == FATE_WAITING || b == FATE_WAITING) return UNDETERMINED;
  if (a == FATE_ALIVE || b == FATE_ALIVE) return ALIVE;
  return closedBy != nullptr ? CLOSED : NO_KEEPALIVE;
}

/** timeline.ts sideSentence into `o`; false when the side sent no probe. */
bool sideSentence(std::string& o, const Dir& d, bool client, const char* the, Work& w) {
  if (d.probes() == 0) return false;
  const char* side = client ? "client" : "server";
  const char* peer = client ? "server" : "client";
  o += the;
  o += ' ';
  o += side;
  o += " sent ";
  jsNumber(o, d.probes());
  o += d.probes() == 1 ? " keepalive probe (" : " keepalive probes (";
  if (d.idle.count > 0) {
    o += "after ";
    seconds(o, w.median(d.idle));
    o += " idle";
  } else if (d.afterAnswer.count > 0) {
    o += "every ";
    seconds(o, w.median(d.afterAnswer));
    o += " after each answer";
  } else {
    o += "with no captured activity before";
  }
  o += ')';
  if (d.fate() == FATE_RESET) {
    o += "; the ";
    o += peer;
    o += " answered frame ";
    jsNumber(o, d.resetProbeFrame());
    o += " with RST (frame ";
    jsNumber(o, d.resetReplyFrame());
    o += "): it no longer knew the connection (rebooted or aborted)";
  } else if (d.fate() == FATE_DEAD) {
    o += "; the last ";
    jsNumber(o, d.gaveUpAfter());
    o += " went unanswered";
    if (d.interval.count > 0) {
      o += ' ';
      seconds(o, w.median(d.interval));
      o += " apart";
    }
    o += ", so the ";
    o += side;
    o += " gave up and reset the connection (frame ";
    jsNumber(o, d.gaveUpFrame());
    o += "): the ";
    o += peer;
    o += " was unreachable";
  } else if (d.fate() == FATE_WAITING) {
    o += "; the capture ended with the last ";
    jsNumber(o, d.probeOrdinal());
    o += " unanswered, before the ";
    o += side;
    o += " gave up or heard back";
  } else if (d.acked() > 0) {
    o += "; the ";
    o += peer;
    o += " answered ";
    if (d.acked() == d.probes()) {
      o += "every one";
    } else {
      jsNumber(o, d.acked());
      o += " of them";
    }
    o += " with an ACK";
  }
  return true;
}

void explain(std::string& o, const Conn& c, int verdict, const char* closedBy, Work& w) {
  std::string client, server;
  const bool hasClient = sideSentence(client, c.client(), true, "The", w);
  const bool hasServer = sideSentence(server, c.server(), false, hasClient ? "the" : "The", w);
  if (!hasClient && !hasServer) {
    o += "No keepalive probes in ";
    seconds(o, c.f[20] - c.f[19]);
    o += " of capture; the connection was ";
    o += closedBy == nullptr ? "still open at the end of the capture" : std::strcmp(closedBy, "fin") == 0 ? "closed with FIN" : "reset";
    o += '.';
    return;
  }
  o += VERDICT_WORDS[verdict];
  o += ": ";
  if (hasClient) o += client;
  if (hasClient && hasServer) o += "; ";
  if (hasServer) o += server;
  o += '.';
}

// Findings as codes: rule × 3 + severity (the orders of analysis/native.ts ROW_RULES and ROW_SEVERITIES).
enum { IDLE_EXCEEDS_MIDDLEBOX, OS_DEFAULTS, PROBES_UNANSWERED, PEER_RESET, SILENT_GAP, KEEPALIVE_AND_HEARTBEAT };
const char* const RULES[] = {"idle-exceeds-middlebox", "os-defaults", "probes-unanswered", "peer-reset", "silent-gap", "keepalive-and-heartbeat"};
enum { INFO, WARNING, ERROR };
constexpr int MAX_FINDINGS = 8;

struct Findings {
  int n = 0;
  int codes[MAX_FINDINGS] = {};
  void add(int rule, int severity) { codes[n++] = rule * 3 + severity; }
};

void sideFindings(Findings& out, const Settings& s, int verdict, double middlebox) {
  if (s.idle.has && s.idle.v > middlebox) out.add(IDLE_EXCEEDS_MIDDLEBOX, WARNING);
  if (s.defaults != nullptr) out.add(OS_DEFAULTS, INFO);
  if (s.unanswered > 0) out.add(PROBES_UNANSWERED, verdict == DEAD ? ERROR : WARNING);
}

// ---- Endpoints and times ----

void ipv4(std::string& o, uint32_t w) {
  char b[8];
  for (int i = 3; i >= 0; i--) {
    const auto r = std::to_chars(b, b + sizeof b, (w >> (8 * i)) & 255);
    o.append(b, r.ptr);
    if (i > 0) o += '.';
  }
}

/** segment.ts formatEndpoint; false when a word is not a 32-bit value. */
bool endpoint(std::string& o, bool v6, const double* w, double port) {
  uint32_t words[4];
  for (int i = 0; i < 4; i++) {
    if (!(w[i] >= 0 && w[i] <= 4294967295.0) || w[i] != std::floor(w[i])) return false;
    words[i] = static_cast<uint32_t>(w[i]);
  }
  if (!v6) {
    ipv4(o, words[3]);
  } else {
    uint32_t g[8];
    for (int i = 0; i < 4; i++) {
      g[2 * i] = words[i] >> 16;
      g[2 * i + 1] = words[i] & 0xffff;
    }
    int bestAt = -1, bestLen = 1;
    for (int i = 0; i < 8;) {
      if (g[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && g[j] == 0) j++;
      if (j - i > bestLen) {
        bestAt = i;
        bestLen = j - i;
      }
      i = j;
    }
    o += '[';
    char b[8];
    for (int i = 0; i < 8; i++) {
      if (bestAt >= 0 && i >= bestAt && i < bestAt + bestLen) {
        if (i == bestAt) o += "::";
        continue;
      }
      if (i > 0 && !(bestAt >= 0 && i == bestAt + bestLen)) o += ':';
      const auto r = std::to_chars(b, b + sizeof b, g[i], 16);
      o.append(b, r.ptr);
    }
    o += ']';
  }
  o += ':';
  jsNumber(o, port);
  return true;
}

void two(std::string& o, int64_t n) {
  o += static_cast<char>('0' + n / 10);
  o += static_cast<char>('0' + n % 10);
}

/** timeline.ts isoTime; false for a time it writes otherwise (not a whole second, or outside the years 0-9999). */
bool isoTime(std::string& o, double sec, double nsec) {
  if (!(std::fabs(sec) <= 8.64e12) || sec != std::floor(sec)) return false;
  const int64_t s = static_cast<int64_t>(sec);
  int64_t day = s / 86400;
  if (s % 86400 < 0) day--;
  const int64_t t = s - day * 86400;
  // civil_from_days (H. Hinnant), proleptic Gregorian as Date uses.
  const int64_t z = day + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 0 || y > 9999) return false;
  two(o, y / 100);
  two(o, y % 100);
  o += '-';
  two(o, m);
  o += '-';
  two(o, d);
  o += 'T';
  two(o, t / 3600);
  o += ':';
  two(o, t / 60 % 60);
  o += ':';
  two(o, t % 60);
  o += '.';
  std::string ns;
  jsNumber(ns, nsec);
  if (ns.size() < 9) o.append(9 - ns.size(), '0');
  o += ns;
  o += 'Z';
  return true;
}

/** csv.ts csvField for a string. */
void csvText(std::string& o, const std::string& v) {
  if (v.find_first_of("\",\r\n") == std::string::npos) {
    o += v;
    return;
  }
  o += '"';
  for (char ch : v) {
    if (ch == '"') o += '"';
    o += ch;
  }
  o += '"';
}

void optNumber(std::string& o, const Opt& x) {
  if (x.has) jsNumber(o, x.v);
}

/**
 * The row of the connection `c` (csv.ts csvRow of connectionReport with no probe list) into
 * w.row, its findings into `findings`; false when it cannot be written here.
 */
bool row(const Conn& c, double middlebox, Work& w, Findings& findings) {
  const double* f = c.f;
  const double roles = f[12];
  if (!(roles == 0 || roles == 1 || roles == 2)) return false;
  const char* closedBy = f[23] == 1 ? "fin" : f[23] == 2 ? "rst" : nullptr;
  std::string& o = w.row;
  o.clear();
  const bool v6 = f[0] == 6;
  const bool clientIsA = c.clientIsA();
  if (!endpoint(o, v6, clientIsA ? f + 1 : f + 6, clientIsA ? f[5] : f[10])) return false;
  o += ',';
  if (!endpoint(o, v6, clientIsA ? f + 6 : f + 1, clientIsA ? f[10] : f[5])) return false;
  o += ',';
  static const char* const ROLES[] = {"port", "syn", "syn-ack"};
  o += ROLES[static_cast<int>(roles)];
  o += ',';
  const int verdict = verdictOf(c, closedBy);
  o += VERDICTS[verdict];
  o += ',';

  Settings client, server;
  const bool hasClient = inferSettings(c.client(), client, w);
  const bool hasServer = inferSettings(c.server(), server, w);
  // units.ts probeCounts (no probe list: the total is 0 when neither side probed).
  double total = 0, ack = 0, none = 0;
  if (hasClient) total += client.probes, ack += client.acked, none += client.unanswered;
  if (hasServer) total += server.probes, ack += server.acked, none += server.unanswered;
  jsNumber(o, total);
  o += ',';
  jsNumber(o, ack);
  o += ',';
  jsNumber(o, total - ack - none);
  o += ',';
  jsNumber(o, none);
  o += ',';
  o += hasClient && hasServer ? "both" : hasClient ? "client" : hasServer ? "server" : "";
  o += ',';
  const Settings* s = hasClient ? &client : hasServer ? &server : nullptr;
  if (s != nullptr) {
    optNumber(o, s->idle);
    o += ',';
    optNumber(o, s->interval);
    o += ',';
    optNumber(o, s->intervalAtMost);
    o += ',';
    optNumber(o, s->count);
    o += ',';
    optNumber(o, s->countAtLeast);
    o += ',';
    o += s->style;
    o += ',';
    if (s->defaults != nullptr) o += s->defaults;
    o += ',';
  } else {
    o += ",,,,,,,";
  }
  jsNumber(o, c.a.zeroWindowProbes() + c.b.zeroWindowProbes());
  o += ',';
  const double maxGap = f[22];
  jsNumber(o, roundSeconds(maxGap));
  o += ',';
  // heartbeat.ts heartbeatOf: the side with more beats when both have one (the client on a tie).
  const Beat a = beatOf(c.client(), "client", w);
  const Beat b = beatOf(c.server(), "server", w);
  const Beat beat = a.has && b.has ? (a.count >= b.count ? a : b) : a.has ? a : b;
  if (beat.has) jsNumber(o, beat.period);
  o += ',';
  o += beat.from;
  o += ',';
  // lint.ts connectionFindings (with no probe list, "keepalive" is any probe counted).
  findings.n = 0;
  if (hasClient) sideFindings(findings, client, verdict, middlebox);
  if (hasServer) sideFindings(findings, server, verdict, middlebox);
  if (verdict == RESET) findings.add(PEER_RESET, ERROR);
  const bool keepalive = c.a.probes() + c.b.probes() > 0;
  if (!keepalive && !beat.has && maxGap > middlebox) findings.add(SILENT_GAP, WARNING);
  if (keepalive && beat.has) findings.add(KEEPALIVE_AND_HEARTBEAT, INFO);
  for (int i = 0; i < findings.n; i++) {
    if (i > 0) o += ' ';
    o += RULES[findings.codes[i] / 3];
  }
  o += ',';
  if (closedBy != nullptr) o += closedBy;
  o += ',';
  jsNumber(o, f[13]);
  o += ',';
  jsNumber(o, f[14]);
  o += ',';
  if (!isoTime(o, f[15], f[16])) return false;
  o += ',';
  if (!isoTime(o, f[17], f[18])) return false;
  o += ',';
  jsNumber(o, f[21]);
  o += ',';
  w.text.clear();
  explain(w.text, c, verdict, closedBy, w);
  csvText(o, w.text);
  return true;
}

// ---- N-API ----

bool ok(napi_env env, napi_status status) {
  if (status == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, nullptr, "native rows: N-API call failed");
  return false;
}

bool float64s(napi_env env, napi_value v, double** data, size_t* length) {
  napi_typedarray_type type;
  void* raw = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (!ok(env, napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset))) return false;
  if (type != napi_float64_array) {
    napi_throw_type_error(env, nullptr, "native rows: a Float64Array was expected");
    return false;
  }
  *data = static_cast<double*>(raw);
  return true;
}

/**
 * Rows waiting for the connections begun before theirs (the CSV lists connections in order of
 * first frame): their bytes one after another, and where each lies. Kept here, out of the
 * JavaScript heap, until releaseRows hands them out in order as one buffer.
 */
struct RowStore {
  struct Entry {
    double frame;
    size_t at;
    size_t length;
  };
  std::vector<char> bytes;
  std::vector<Entry> entries;

  void add(double frame, const char* row, size_t length) {
    entries.push_back({frame, bytes.size(), length});
    bytes.insert(bytes.end(), row, row + length);
  }
};

void finalizeStore(napi_env, void* data, void*) { delete static_cast<RowStore*>(data); }

RowStore* storeOf(napi_env env, napi_value v) {
  void* data = nullptr;
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_external || napi_get_value_external(env, v, &data) != napi_ok || data == nullptr) {
    napi_throw_type_error(env, nullptr, "native rows: not a row store");
    return nullptr;
  }
  return static_cast<RowStore*>(data);
}

/** The info csvRows gives of connection `c` (ROW_INFO doubles at r), its row made or not. */
void rowInfo(double* r, size_t start, const Conn& c, bool made, const Findings& findings) {
  r[0] = static_cast<double>(start);
  r[1] = c.f[13];
  r[2] = c.a.probes() + c.b.probes();
  r[3] = c.a.zeroWindowProbes() + c.b.zeroWindowProbes();
  r[4] = made ? findings.n : -1;
  for (int k = 0; k < MAX_FINDINGS; k++) r[5 + k] = k < findings.n ? findings.codes[k] : 0;
}

/** Rows of a run of connections, one after another, and each one's length (-1: not made). */
struct Chunk {
  std::string bytes;
  std::vector<int64_t> lengths;
};

/** The rows of connections [from, to), starting at starts[i], into `chunk`; their info into `out`. */
void renderRange(const double* s, size_t length, const std::vector<size_t>& starts, uint32_t from, uint32_t to, double middlebox, double* out, Chunk& chunk) {
  static thread_local Work w;
  for (uint32_t i = from; i < to; i++) {
    Conn c;
    size_t at = starts[i];
    readConn(s, length, at, c);
    Findings findings;
    const bool made = row(c, middlebox, w, findings);
    rowInfo(out + static_cast<size_t>(i) * ROW_INFO, starts[i], c, made, findings);
    chunk.lengths.push_back(made ? static_cast<int64_t>(w.row.size()) : -1);
    if (made) chunk.bytes += w.row;
  }
}

/** Batches this long are made on two threads (the connections still open at the end come in FINISH_STEP of 4,096, when the reading threads are done). */
constexpr uint32_t TWO_THREADS = 2048;

/** csvRows into the store: false when a connection runs past the doubles. */
bool intoStore(const double* s, size_t length, uint32_t count, double middlebox, double* out, RowStore& store) {
  std::vector<size_t> starts(static_cast<size_t>(count) + 1);
  size_t at = 0;
  for (uint32_t i = 0; i < count; i++) {
    starts[i] = at;
    Conn c;
    if (!readConn(s, length, at, c)) return false;
  }
  starts[count] = at;
  Chunk first, second;
  const uint32_t mid = count >= TWO_THREADS ? count / 2 : count;
  if (mid < count) {
    std::thread other(renderRange, s, length, std::cref(starts), mid, count, middlebox, out, std::ref(second));
    renderRange(s, length, starts, 0, mid, middlebox, out, first);
    other.join();
  } else {
    renderRange(s, length, starts, 0, count, middlebox, out, first);
  }
  uint32_t i = 0;
  for (const Chunk* chunk : {&first, &second}) {
    size_t from = 0;
    for (const int64_t n : chunk->lengths) {
      if (n >= 0) {
        store.add(out[static_cast<size_t>(i) * ROW_INFO + 1], chunk->bytes.data() + from, static_cast<size_t>(n));
        from += static_cast<size_t>(n);
      }
      i++;
    }
  }
  return true;
}

}  // namespace rows

using namespace rows;

napi_value CreateRowStore(napi_env env, napi_callback_info) {
  RowStore* store = new RowStore();
  napi_value v;
  if (!ok(env, napi_create_external(env, store, finalizeStore, nullptr, &v))) {
    delete store;
    return nullptr;
  }
  return v;
}

napi_value StoreRow(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  if (argc < 3) {
    napi_throw_type_error(env, nullptr, "native rows: storeRow(store, row, firstFrame)");
    return nullptr;
  }
  RowStore* store = storeOf(env, argv[0]);
  if (store == nullptr) return nullptr;
  size_t length = 0;
  if (!ok(env, napi_get_value_string_utf8(env, argv[1], nullptr, 0, &length))) return nullptr;
  std::string row(length + 1, '\0');
  if (!ok(env, napi_get_value_string_utf8(env, argv[1], row.data(), row.size(), &length))) return nullptr;
  double frame = 0;
  if (!ok(env, napi_get_value_double(env, argv[2], &frame))) return nullptr;
  store->add(frame, row.data(), length);
  return nullptr;
}

napi_value StoredRows(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  RowStore* store = argc < 1 ? nullptr : storeOf(env, argv[0]);
  if (store == nullptr) return nullptr;
  napi_value n;
  if (!ok(env, napi_create_double(env, static_cast<double>(store->entries.size()), &n))) return nullptr;
  return n;
}

napi_value ReleaseRows(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  RowStore* store = argc < 2 ? nullptr : storeOf(env, argv[0]);
  if (store == nullptr) return nullptr;
  double before = 0;
  if (!ok(env, napi_get_value_double(env, argv[1], &before))) return nullptr;
  std::vector<RowStore::Entry> ready, rest;
  size_t bytes = 0, restBytes = 0;
  for (const RowStore::Entry& e : store->entries) {
    if (e.frame < before) {
      ready.push_back(e);
      bytes += e.length + 2;
    } else {
      rest.push_back(e);
      restBytes += e.length;
    }
  }
  napi_value out;
  if (ready.empty()) {
    napi_get_null(env, &out);
    return out;
  }
  std::stable_sort(ready.begin(), ready.end(), [](const RowStore::Entry& x, const RowStore::Entry& y) { return x.frame < y.frame; });
  void* data = nullptr;
  if (!ok(env, napi_create_buffer(env, bytes - 2, &data, &out))) return nullptr;
  char* o = static_cast<char*>(data);
  for (size_t i = 0; i < ready.size(); i++) {
    if (i > 0) {
      *o++ = '\r';
      *o++ = '\n';
    }
    std::memcpy(o, store->bytes.data() + ready[i].at, ready[i].length);
    o += ready[i].length;
  }
  // The rows still waiting move to the front.
  std::vector<char> kept;
  kept.reserve(restBytes);
  for (RowStore::Entry& e : rest) {
    const size_t at = kept.size();
    kept.insert(kept.end(), store->bytes.begin() + static_cast<std::ptrdiff_t>(e.at), store->bytes.begin() + static_cast<std::ptrdiff_t>(e.at + e.length));
    e.at = at;
  }
  store->bytes.swap(kept);
  store->entries.swap(rest);
  return out;
}

napi_value CsvRows(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  if (argc < 4) {
    napi_throw_type_error(env, nullptr, "native rows: csvRows(doubles, count, middleboxTimeout, info)");
    return nullptr;
  }
  double* s = nullptr;
  size_t length = 0;
  if (!float64s(env, argv[0], &s, &length)) return nullptr;
  uint32_t count = 0;
  if (!ok(env, napi_get_value_uint32(env, argv[1], &count))) return nullptr;
  double middlebox = 0;
  if (!ok(env, napi_get_value_double(env, argv[2], &middlebox))) return nullptr;
  double* out = nullptr;
  size_t outLength = 0;
  if (!float64s(env, argv[3], &out, &outLength)) return nullptr;
  if (outLength < static_cast<size_t>(count) * ROW_INFO) {
    napi_throw_range_error(env, nullptr, "native rows: the info array is too short");
    return nullptr;
  }
  RowStore* store = nullptr;
  napi_valuetype type = napi_undefined;
  if (argc >= 5 && napi_typeof(env, argv[4], &type) == napi_ok && type != napi_undefined) {
    store = storeOf(env, argv[4]);
    if (store == nullptr) return nullptr;
  }
  napi_value rows;
  if (store != nullptr) {
    if (!intoStore(s, length, count, middlebox, out, *store)) {
      napi_throw_range_error(env, nullptr, "native rows: a connection runs past the doubles");
      return nullptr;
    }
    napi_get_undefined(env, &rows);
    return rows;
  }
  if (!ok(env, napi_create_array_with_length(env, count, &rows))) return nullptr;
  static thread_local Work w;
  size_t at = 0;
  for (uint32_t i = 0; i < count; i++) {
    Conn c;
    const size_t start = at;
    if (!readConn(s, length, at, c)) {
      napi_throw_range_error(env, nullptr, "native rows: a connection runs past the doubles");
      return nullptr;
    }
    Findings findings;
    const bool made = row(c, middlebox, w, findings);
    rowInfo(out + static_cast<size_t>(i) * ROW_INFO, start, c, made, findings);
    if (!made) continue;
    napi_value text;
    if (!ok(env, napi_create_string_utf8(env, w.row.data(), w.row.size(), &text))) return nullptr;
    if (!ok(env, napi_set_element(env, rows, i, text))) return nullptr;
  }
  return rows;
}

napi_value FormatNumber(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (!ok(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr))) return nullptr;
  double x = 0;
  if (argc < 1 || !ok(env, napi_get_value_double(env, argv[0], &x))) return nullptr;
  int32_t digits = -1;
  if (argc >= 2) napi_get_value_int32(env, argv[1], &digits);
  std::string o;
  if (digits < 0) jsNumber(o, x);
  else if (digits <= 3) toFixed(o, x, digits);
  else seconds(o, x);
  napi_value text;
  if (!ok(env, napi_create_string_utf8(env, o.data(), o.size(), &text))) return nullptr;
  return text;
}
