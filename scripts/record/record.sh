#!/usr/bin/env bash
# Record real Linux-kernel TCP keepalive captures (with truth files) into fixtures/.
#
#   bash scripts/record/record.sh                 # every scenario
#   bash scripts/record/record.sh ka-dead fmt-raw # only these (a file name records its group)
#   bash scripts/record/record.sh --list
#
# Needs root, iproute2, tcpdump, dumpcap, tshark, editcap, mergecap, python3.
# Every scenario builds its own network namespaces (kafx-<pid>-a / -b / -r), joined by
# veth pairs (and a tun pair for raw IP); all traffic stays inside them on 10.77.x.x and
# fd77::/64.  Namespaces and processes are removed on every exit path (trap), and every
# process runs under `timeout`.  A scenario whose capture does not show what its truth
# says (checked with tshark) is recorded again, up to 3 attempts.
#
# Environment: KAFX_OUT (output dir, default <repo>/fixtures), KAFX_SEED (ka-many seed).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FIX=${KAFX_OUT:-$ROOT/fixtures}
SEED=${KAFX_SEED:-20251122}
ID=$$
NSA=kafx-$ID-a
NSB=kafx-$ID-b
NSR=kafx-$ID-r
PY=python3
PEER="$HERE/peer.py"
TRUTH="$HERE/truth.py"
WORK=$(mktemp -d "/tmp/kafx-$ID.XXXXXX")
OUT=$WORK/out
BPFDIR=$WORK/bpf
TCPDUMP=(tcpdump -Z root -U --immediate-mode -n)

ALL_SCENARIOS=(fmt-basic fmt-ipv6 fmt-vlan fmt-qinq fmt-multi-if fmt-any-bridge fmt-any-router fmt-ipv4-options fmt-ipv6-exthdr
  fmt-ipv4-frag ka-alive ka-dead ka-user-timeout ka-reset ka-both-ends ka-data-restarts ka-ipv6 ka-many
  ka-zero-window ka-midstream ka-seq-wrap ka-seq-wrap-edge
  hb-pingpong hb-oneway hb-bursts hb-with-keepalive hb-silent)

# a fixture name -> the scenario (group) that records it
group_of() {
  case $1 in
    fmt-pcap-us|fmt-pcap-ns|fmt-pcapng|fmt-any|fmt-any-v2|fmt-snap60|fmt-ring) echo fmt-basic ;;
    fmt-raw|fmt-multi-tsresol) echo fmt-multi-if ;;
    *) echo "$1" ;;
  esac
}

log() { printf '[record %s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }

# ------------------------------------------------------------------ cleanup
kill_started() {
  local p
  [ -f "$WORK/pids" ] || return 0
  # (never this shell itself: a scenario subshell is listed too)
  while read -r p; do [ "$p" = "$BASHPID" ] || kill -TERM "$p" 2>/dev/null || true; done <"$WORK/pids"
  sleep 0.3
  while read -r p; do [ "$p" = "$BASHPID" ] || kill -KILL "$p" 2>/dev/null || true; done <"$WORK/pids"
  : >"$WORK/pids"
}
teardown() {
  kill_started
  local ns
  for ns in "$NSA" "$NSB" "$NSR"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  if mountpoint -q "$BPFDIR" 2>/dev/null; then umount "$BPFDIR" || true; fi
}
on_exit() { teardown; rm -rf "$WORK"; }
trap on_exit EXIT
trap 'exit 130' INT TERM HUP

# ------------------------------------------------------------------ helpers
# bgrun LIMIT STDOUT STDERR CMD...   start a bounded background process; sets LAST_PID
bgrun() {
  local limit=$1 out=$2 err=$3
  shift 3
  timeout --kill-after=2 "$limit" "$@" >"$out" 2>"$err" &
  LAST_PID=$!
  echo "$LAST_PID" >>"$WORK/pids"
}

set_t0() { T0=$(awk -v n="$(date +%s.%N)" -v d="$1" 'BEGIN{printf "%.6f", n+d}'); }
sleep_until() {
  local d
  d=$(awk -v t0="$T0" -v r="$1" -v n="$(date +%s.%N)" 'BEGIN{d=t0+r-n; if (d<0) d=0; printf "%.6f", d}')
  # sleep in the background and `wait`: a signal then interrupts at once and runs the trap
  sleep "$d" &
  local sp=$!
  echo "$sp" >>"$WORK/pids"
  wait "$sp"
}
# at REL CMD...   run CMD at T0+REL
at() {
  local rel=$1
  shift
  sleep_until "$rel"
  log "t0+$rel: $*"
  "$@"
}

mkns() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
}

# two namespaces joined by a veth: a 10.77.0.1/24 fd77::1/64, b 10.77.0.2/24 fd77::2/64
setup_pair() {
  mkns "$NSA"
  mkns "$NSB"
  ip link add veth-a netns "$NSA" type veth peer name veth-b netns "$NSB"
  ip -n "$NSA" addr add 10.77.0.1/24 dev veth-a
  ip -n "$NSB" addr add 10.77.0.2/24 dev veth-b
  ip -n "$NSA" addr add fd77::1/64 dev veth-a nodad
  ip -n "$NSB" addr add fd77::2/64 dev veth-b nodad
  ip -n "$NSA" link set veth-a up
  ip -n "$NSB" link set veth-b up
}

# setup_vlan PUSH_SPEC... : tag every frame leaving either veth end with tc eBPF
# (bpf_skb_vlan_push) and pop the tags again at tc ingress; see vlanbpf.py.
setup_vlan() {
  local npop=$#
  mkdir -p "$BPFDIR"
  mount -t bpf bpf "$BPFDIR"
  $PY "$HERE/vlanbpf.py" "$BPFDIR" push push "$@"
  $PY "$HERE/vlanbpf.py" "$BPFDIR" pop pop "$npop"
  local ns dev
  for ns in "$NSA" "$NSB"; do
    dev=veth-${ns##*-}
    ip netns exec "$ns" tc qdisc add dev "$dev" clsact
    ip netns exec "$ns" tc filter add dev "$dev" egress bpf da object-pinned "$BPFDIR/push"
    ip netns exec "$ns" tc filter add dev "$dev" ingress bpf da object-pinned "$BPFDIR/pop"
  done
}

# tun pair tun-a (in a) <-> tun-b (in b), joined by tunrelay.py running in a:
# a 10.77.1.1/24 fd77::11/128, b 10.77.1.2/24 fd77::12/128
setup_tun() {
  local secs=$1
  bgrun "$((secs + 10))" "$WORK/relay.out" "$WORK/relay.err" \
    ip netns exec "$NSA" $PY "$HERE/tunrelay.py" tun-a tun-b "$secs"
  local i
  for i in $(seq 50); do grep -q ready "$WORK/relay.out" && break; sleep 0.1; done
  grep -q ready "$WORK/relay.out" || { cat "$WORK/relay.err" >&2; return 1; }
  ip -n "$NSA" link set tun-b netns "$NSB"
  ip -n "$NSA" addr add 10.77.1.1/24 dev tun-a
  ip -n "$NSB" addr add 10.77.1.2/24 dev tun-b
  ip -n "$NSA" addr add fd77::11/128 dev tun-a nodad
  ip -n "$NSB" addr add fd77::12/128 dev tun-b nodad
  ip -n "$NSA" link set tun-a up
  ip -n "$NSB" link set tun-b up
  ip -n "$NSA" -6 route add fd77::12/128 dev tun-a
  ip -n "$NSB" -6 route add fd77::11/128 dev tun-b
}

# a (10.77.0.1, veth-a mtu 1500) -- r (veth-ra 10.77.0.254 mtu 700 | veth-rb 10.77.2.254)
#   -- b (10.77.2.2): r forwards; what b sends with DF clear reaches a fragmented
setup_router() {
  mkns "$NSA"
  mkns "$NSB"
  mkns "$NSR"
  ip netns exec "$NSR" sysctl -qw net.ipv4.ip_forward=1
  ip link add veth-a netns "$NSA" type veth peer name veth-ra netns "$NSR"
  ip link add veth-b netns "$NSB" type veth peer name veth-rb netns "$NSR"
  ip -n "$NSA" addr add 10.77.0.1/24 dev veth-a
  ip -n "$NSR" addr add 10.77.0.254/24 dev veth-ra
  ip -n "$NSR" addr add 10.77.2.254/24 dev veth-rb
  ip -n "$NSB" addr add 10.77.2.2/24 dev veth-b
  ip -n "$NSR" link set veth-ra mtu 700
  ip -n "$NSA" link set veth-a up
  ip -n "$NSB" link set veth-b up
  ip -n "$NSR" link set veth-ra up
  ip -n "$NSR" link set veth-rb up
  ip -n "$NSA" route add 10.77.2.0/24 via 10.77.0.254
  ip -n "$NSB" route add 10.77.0.0/24 via 10.77.2.254
}

# cap_start NS LABEL CMD...  start a capture, wait until it listens.  The command, with
# work paths shown as fixtures/ and namespaces as kafx-a/-b, is kept for the truth file.
CAP_PIDS=()
cap_start() {
  local ns=$1 label=$2
  shift 2
  local shown="ip netns exec $ns $*"
  shown=${shown//$OUT\//fixtures\/}
  shown=${shown//$WORK\//}
  shown=${shown//kafx-$ID-/kafx-}
  printf '%s' "$shown" >"$WORK/cmd-$label"
  bgrun 180 "$WORK/cap-$label.out" "$WORK/cap-$label.err" ip netns exec "$ns" "$@"
  CAP_PIDS+=("$LAST_PID")
  local i
  for i in $(seq 100); do
    grep -qE 'listening on|Capturing on' "$WORK/cap-$label.err" && return 0
    kill -0 "$LAST_PID" 2>/dev/null || break
    sleep 0.05
  done
  log "capture $label did not start:"
  cat "$WORK/cap-$label.err" >&2
  return 1
}
cap_stop() {
  local p
  for p in "${CAP_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${CAP_PIDS[@]}"; do wait "$p" || true; done
  CAP_PIDS=()
}
cmd_of() { cat "$WORK/cmd-$1"; }

# peer NS ROLE SPECFILE LOGNAME
peer() {
  bgrun 120 "$WORK/$4.log" "$WORK/$4.err" ip netns exec "$1" $PY "$PEER" "$2" --spec "$3"
  local pid=$LAST_PID
  if [ "$2" = server ]; then
    local i
    for i in $(seq 100); do
      grep -q '"listening"' "$WORK/$4.log" 2>/dev/null && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    cat "$WORK/$4.err" >&2
    return 1
  fi
}

# wait_event LOGNAME EVENT SECONDS -> prints the event's rel time
wait_event() {
  local i
  for i in $(seq "$(($3 * 10))"); do
    if grep -q "\"event\": \"$2\"" "$WORK/$1.log" 2>/dev/null; then
      grep "\"event\": \"$2\"" "$WORK/$1.log" | head -1 | $PY -c 'import json,sys; print(json.loads(sys.stdin.read())["rel"])'
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# write_meta key=value ...   (values starting with [ or { are JSON; conns=@FILE reads a file)
write_meta() {
  $PY - "$WORK" "$T0" "$@" <<'PY'
import json, sys
work, t0 = sys.argv[1], float(sys.argv[2])
m = {'t0': t0}
for kv in sys.argv[3:]:
    k, _, v = kv.partition('=')
    if v.startswith('@'):
        with open(v[1:]) as f:
            v = json.load(f)
    elif v[:1] in '[{':
        v = json.loads(v)
    m[k] = v
name = m.pop('name')
m['connections'] = m.pop('conns')
cap = {'tool': m.pop('tool'), 'command': m.pop('command'), 'files': m.pop('files').split()}
if m.get('copies'):
    cap['copies'] = m.pop('copies').split()
m.pop('copies', None)
if m.get('tsharkFiles'):
    m['tsharkFiles'] = m['tsharkFiles'].split()
meta = {'scenario': name, 'recordedBy': f'scripts/record/record.sh {name}', 'capture': cap}
meta.update(m)
with open(f'{work}/meta-{name}.json', 'w') as f:
    json.dump(meta, f, indent=1)
PY
}

finalize() { $PY "$TRUTH" finalize "$WORK/meta-$1.json" "$OUT"; }

# conn_json CLIENT SERVER KA_CLIENT KA_SERVER FATE EVENTS VERIFY [HEARTBEAT] -> JSON object
# on stdout (HEARTBEAT: the configured application heartbeat, JSON object or null; hb-*)
conn_json() {
  $PY -c 'import json,sys; a=sys.argv[1:]; c={"client":a[0],"server":a[1],
"keepalive":{"client":json.loads(a[2]),"server":json.loads(a[3])},"fate":a[4],"events":a[5],
"verify":json.loads(a[6])}
if len(a) > 7: c["heartbeat"]=json.loads(a[7])
print(json.dumps(c))' "$@"
}

ka() { echo "{\"idle\": $1, \"interval\": $2, \"count\": $3}"; }

# ------------------------------------------------------------------ the common "basic" exchange
# client sends 200 B at 0.05 and 300 B at 0.3 (server echoes both), keepalive 1/1/3 on the
# client, probes every ~1 s, all answered; normal close by the client at 4.9.
basic_specs() { # basic_specs CLIENT SERVER  (writes $WORK/server.json, $WORK/client.json)
  local c=$1 s=$2 saddr sport
  saddr=${s%:*}; saddr=${saddr#[}; saddr=${saddr%]}; sport=${s##*:}
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 9, "listeners": [{"addr": "$saddr", "port": $sport, "echo": true ${SERVER_EXTRA:-}}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 9, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $(ka 1 1 3),
 "actions": [{"t": 0.05, "do": "send", "bytes": 200}, {"t": 0.3, "do": "send", "bytes": 300} ${CLIENT_EXTRA_ACTIONS:-},
             {"t": 4.9, "do": "close"}] ${CLIENT_EXTRA:-}}]}
EOF
}
BASIC_EVENTS='client sent 200 B at @{0.05} and 300 B at @{0.3}, server echoed both; idle: client probes about every 1 s, all answered; client closed normally (FIN) at @{4.9}, server closed on EOF'
basic_conn() { conn_json "$1" "$2" "$(ka 1 1 3)" null alive "$BASIC_EVENTS${3:-}" '{"minProbes": {"client": 3}, "syn": true}'; }

run_basic() { # run_basic : start peers, wait for the scenario to end (6.0), stop captures
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 6.0
  cap_stop
}

# ------------------------------------------------------------------ scenarios
sc_fmt-basic() {
  setup_pair
  local c=10.77.0.1:40001 s=10.77.0.2:9001
  cap_start "$NSA" us "${TCPDUMP[@]}" -i veth-a -w "$OUT/fmt-pcap-us.pcap"
  cap_start "$NSA" ns "${TCPDUMP[@]}" --time-stamp-precision=nano -i veth-a -w "$OUT/fmt-pcap-ns.pcap"
  cap_start "$NSA" ng dumpcap -q -i veth-a -w "$OUT/fmt-pcapng.pcapng"
  cap_start "$NSA" any "${TCPDUMP[@]}" -i any -y LINUX_SLL -w "$OUT/fmt-any.pcap"
  cap_start "$NSA" any2 dumpcap -q -i any -y LINUX_SLL2 -w "$OUT/fmt-any-v2.pcapng"
  cap_start "$NSA" snap "${TCPDUMP[@]}" -s 60 -i veth-a -w "$OUT/fmt-snap60.pcap"
  mkdir -p "$WORK/ring"
  cap_start "$NSA" ring dumpcap -q -P -i veth-a -f tcp -b packets:8 -w "$WORK/ring/fmt-ring.pcap"
  set_t0 1.0
  basic_specs "$c" "$s"
  run_basic
  local i=0 f files=
  for f in $(ls "$WORK/ring/" | sort); do
    mv "$WORK/ring/$f" "$OUT/fmt-ring-$i.pcap"
    files="$files fmt-ring-$i.pcap"
    i=$((i + 1))
  done
  gzip -9 -n -c "$OUT/fmt-pcap-us.pcap" >"$OUT/fmt-pcap-us.pcap.gz"
  gzip -9 -n -c "$OUT/fmt-pcapng.pcapng" >"$OUT/fmt-pcapng.pcapng.gz"
  basic_conn "$c" "$s" >"$WORK/conns.json.1"
  echo "[$(cat "$WORK/conns.json.1")]" >"$WORK/conns.json"
  local unf='Unfiltered: ARP and IPv6 (router/neighbour solicitation, MLD) frames are in the file besides the TCP connection, so packet counts differ from TCP segment counts.'
  local common="7 captures of the same run were taken at once in namespace kafx-a (client side); $unf"
  write_meta name=fmt-pcap-us files=fmt-pcap-us.pcap copies=fmt-pcap-us.pcap.gz tool=tcpdump \
    command="$(cmd_of us)" conns=@"$WORK/conns.json" \
    summary='classic pcap, microsecond, Ethernet; keepalive probes answered then FIN (.gz: same bytes gzip-compressed)' \
    notes="$common fmt-pcap-us.pcap.gz is this file compressed with gzip -9 -n."
  write_meta name=fmt-pcap-ns files=fmt-pcap-ns.pcap tool=tcpdump command="$(cmd_of ns)" conns=@"$WORK/conns.json" \
    summary='classic pcap, nanosecond magic a1b23c4d, Ethernet' notes="$common"
  write_meta name=fmt-pcapng files=fmt-pcapng.pcapng copies=fmt-pcapng.pcapng.gz tool=dumpcap \
    command="$(cmd_of ng)" conns=@"$WORK/conns.json" \
    summary='pcapng (dumpcap), Ethernet (.gz: gzip-compressed copy)' \
    notes="$common fmt-pcapng.pcapng.gz is this file compressed with gzip -9 -n."
  write_meta name=fmt-any files=fmt-any.pcap tool=tcpdump command="$(cmd_of any)" conns=@"$WORK/conns.json" \
    summary='tcpdump -i any -y LINUX_SLL: Linux cooked v1 (SLL, 113), both directions' \
    notes="$common Link type LINUX_SLL (113): 16-byte cooked header; packet type 4 = outgoing, 0 = to us."
  write_meta name=fmt-any-v2 files=fmt-any-v2.pcapng tool=dumpcap command="$(cmd_of any2)" conns=@"$WORK/conns.json" \
    summary='dumpcap -i any -y LINUX_SLL2: Linux cooked v2 (276) in pcapng' \
    notes="$common Link type LINUX_SLL2 (276): 20-byte cooked header with interface index."
  # tshark 4.0 runs no sequence analysis on truncated segments: it flags no keep-alive here
  $PY -c 'import json,sys; c=json.load(open(sys.argv[1])); c[0]["verify"]={"tsharkFate": "closed", "syn": True, "minProbesByAck": {"client": 3}}; json.dump(c, open(sys.argv[2], "w"))' \
    "$WORK/conns.json" "$WORK/conns-snap.json"
  write_meta name=fmt-snap60 files=fmt-snap60.pcap tool=tcpdump command="$(cmd_of snap)" conns=@"$WORK/conns-snap.json" \
    summary='snaplen 60: data segments (200/300 B) truncated; TCP options cut too' \
    notes="$common Snap length 60: every frame is cut at 60 bytes = 14 Ethernet + 20 IPv4 + 20 TCP + only 6 of the 12 TCP option bytes (timestamps), so even the TCP header is incomplete; the TCP segment length must come from the IPv4 total length. IPv6 frames are cut inside their headers. tshark 4.0 runs no sequence analysis on truncated segments ([Packet size limited during capture]), so it flags no keep-alives in this file although the probes are there (same run as fmt-pcap-us)."
  write_meta name=fmt-ring files="$files" tool=dumpcap command="$(cmd_of ring)" conns=@"$WORK/conns.json" \
    summary='dumpcap ring buffer (-b packets:8): one connection spread over several classic pcap files' \
    notes="Files in order: $files (dumpcap named them fmt-ring_NNNNN_<date>.pcap; renamed). Capture filter 'tcp'. Read them in order as one capture; the connection spans the files."
  local n
  for n in fmt-pcap-us fmt-pcap-ns fmt-pcapng fmt-any fmt-any-v2 fmt-snap60 fmt-ring; do finalize "$n"; done
}

sc_fmt-ipv6() {
  setup_pair
  local c='[fd77::1]:40002' s='[fd77::2]:9002'
  cap_start "$NSA" v6 "${TCPDUMP[@]}" -i veth-a -w "$OUT/fmt-ipv6.pcap"
  set_t0 1.0
  basic_specs "$c" "$s"
  run_basic
  echo "[$(basic_conn "$c" "$s")]" >"$WORK/conns.json"
  write_meta name=fmt-ipv6 files=fmt-ipv6.pcap tool=tcpdump command="$(cmd_of v6)" conns=@"$WORK/conns.json" \
    summary='the basic keepalive exchange over IPv6, Ethernet, unfiltered' \
    notes='Unfiltered (ARP is absent; ICMPv6 neighbour discovery, MLD and router solicitations are there). Client side capture.'
  finalize fmt-ipv6
}

sc_vlan_common() { # name port tool-desc push-specs...
  local name=$1 port=$2 desc=$3
  shift 3
  setup_pair
  setup_vlan "$@"
  local c=10.77.0.1:$port s=10.77.0.2:$((port - 40000 + 9000))
  cap_start "$NSA" v "${TCPDUMP[@]}" -i veth-a -w "$OUT/$name.pcap"
  set_t0 1.0
  basic_specs "$c" "$s"
  run_basic
  echo "[$(basic_conn "$c" "$s")]" >"$WORK/conns.json"
  write_meta name="$name" files="$name.pcap" tool=tcpdump command="$(cmd_of v)" conns=@"$WORK/conns.json" \
    summary="$desc" \
    notes="Every frame on the veth carries $desc. The recording kernel has no 802.1Q support (CONFIG_VLAN_8021Q unset, no act_vlan), so no VLAN sub-interface could be made: tc eBPF programs on both veth ends push the tag(s) on egress with the kernel helper bpf_skb_vlan_push and pop them at ingress (scripts/record/vlanbpf.py). The kernel keeps the outer tag as skb metadata (like a VLAN-offloading NIC) and libpcap re-inserts it into the captured frame. Unfiltered: ARP and ICMPv6 frames are tagged as well."
  finalize "$name"
}
sc_fmt-vlan() { sc_vlan_common fmt-vlan 40003 '802.1Q tag VID 100 (TPID 0x8100)' 8100:100; }
sc_fmt-qinq() { sc_vlan_common fmt-qinq 40004 'QinQ: outer 802.1ad VID 200 (TPID 0x88a8), inner 802.1Q VID 100 (0x8100)' 8100:100 88a8:200; }

sc_fmt-multi-if() {
  setup_pair
  setup_tun 20
  cap_start "$NSA" multi dumpcap -q -i veth-a -i tun-a -i lo -w "$OUT/fmt-multi-if.pcapng"
  cap_start "$NSA" raw "${TCPDUMP[@]}" -i tun-a -w "$OUT/fmt-raw.pcap"
  cap_start "$NSA" ethus "${TCPDUMP[@]}" -i veth-a -w "$WORK/mi-eth-us.pcap"
  cap_start "$NSA" rawns "${TCPDUMP[@]}" --time-stamp-precision=nano -i tun-a -w "$WORK/mi-raw-ns.pcap"
  set_t0 1.0
  local ev="client sent 200 B at @{0.05} and 300 B at @{0.3}, server echoed; probes answered; client closed normally at @{4.9}"
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 9, "listeners": [
 {"addr": "10.77.0.2", "port": 9021, "echo": true},
 {"addr": "10.77.1.2", "port": 9022, "echo": true},
 {"addr": "fd77::12", "port": 9023, "echo": true}]}
EOF
  cat >"$WORK/server-lo.json" <<EOF
{"t0": $T0, "end": 9, "listeners": [{"addr": "127.0.0.1", "port": 9024, "echo": true}]}
EOF
  local acts='[{"t": 0.05, "do": "send", "bytes": 200}, {"t": 0.3, "do": "send", "bytes": 300}, {"t": 4.9, "do": "close"}]'
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 9, "connections": [
 {"id": "eth", "bind": "10.77.0.1:40021", "connect": "10.77.0.2:9021", "keepalive": $(ka 1 1 3), "actions": $acts},
 {"id": "raw4", "bind": "10.77.1.1:40022", "connect": "10.77.1.2:9022", "keepalive": $(ka 1 1 3), "actions": $acts},
 {"id": "raw6", "bind": "[fd77::11]:40023", "connect": "[fd77::12]:9023", "keepalive": $(ka 2 1 3), "actions": $acts},
 {"id": "lo", "bind": "127.0.0.1:40024", "connect": "127.0.0.1:9024", "keepalive": $(ka 1 1 3), "actions": $acts}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" server "$WORK/server-lo.json" serverlo
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 6.0
  cap_stop
  mergecap -w "$OUT/fmt-multi-tsresol.pcapng" "$WORK/mi-eth-us.pcap" "$WORK/mi-raw-ns.pcap"
  local v='{"minProbes": {"client": 2}, "syn": true}'
  local eth raw4 raw6 lo
  eth=$(conn_json 10.77.0.1:40021 10.77.0.2:9021 "$(ka 1 1 3)" null alive "veth (Ethernet): $ev" "$v")
  raw4=$(conn_json 10.77.1.1:40022 10.77.1.2:9022 "$(ka 1 1 3)" null alive "tun (raw IPv4): $ev" "$v")
  raw6=$(conn_json '[fd77::11]:40023' '[fd77::12]:9023' "$(ka 2 1 3)" null alive "tun (raw IPv6): $ev" "$v")
  lo=$(conn_json 127.0.0.1:40024 127.0.0.1:9024 "$(ka 1 1 3)" null alive "loopback (both ends in kafx-a): $ev" "$v")
  echo "[$eth, $raw4, $raw6, $lo]" >"$WORK/conns-all.json"
  echo "[$raw4, $raw6]" >"$WORK/conns-raw.json"
  echo "[$eth, $raw4, $raw6]" >"$WORK/conns-ts.json"
  local tun='tun-a/tun-b are Linux tun devices (IFF_TUN, ARPHRD_NONE) joined by scripts/record/tunrelay.py, which copies packets between them; libpcap captures them as LINKTYPE_RAW (101): bare IPv4 and IPv6 packets, no link header.'
  write_meta name=fmt-multi-if files=fmt-multi-if.pcapng tool=dumpcap command="$(cmd_of multi)" conns=@"$WORK/conns-all.json" \
    summary='pcapng with 3 interfaces: veth (Ethernet 1), tun (raw IP 101), lo (Ethernet 1); a connection on each' \
    notes="One dumpcap on three interfaces of kafx-a: interface 0 veth-a (Ethernet), 1 tun-a (raw IP), 2 lo (Ethernet, loopback: each packet once). Each interface carries different connections. dumpcap 4.0 writes if_tsresol 9 (nanoseconds) for every interface (fmt-multi-tsresol mixes resolutions). $tun Unfiltered."
  write_meta name=fmt-raw files=fmt-raw.pcap tool=tcpdump command="$(cmd_of raw)" conns=@"$WORK/conns-raw.json" \
    summary='raw IP link type (101) from a tun device, IPv4 and IPv6 connections mixed' \
    notes="$tun The same run as fmt-multi-if. Unfiltered (a tun device carries no ARP/ND)."
  write_meta name=fmt-multi-tsresol files=fmt-multi-tsresol.pcapng tool=mergecap \
    command="mergecap -w fixtures/fmt-multi-tsresol.pcapng mi-eth-us.pcap mi-raw-ns.pcap; inputs: $(cmd_of ethus); $(cmd_of rawns)" \
    conns=@"$WORK/conns-ts.json" \
    summary='pcapng with 2 interfaces of different link types AND timestamp resolutions: Ethernet us, raw IP ns (if_tsresol 9)' \
    notes="Two tcpdump captures of the same run (veth-a at microsecond precision, tun-a at nanosecond precision) merged in time order by mergecap into one pcapng; interface 0 has if_tsresol 6 (us), interface 1 if_tsresol 9 (ns). $tun"
  finalize fmt-multi-if
  finalize fmt-raw
  finalize fmt-multi-tsresol
}

# a and b on one Linux bridge (br0 in r, ports veth-ra and veth-rb): 10.77.0.1 and 10.77.0.2
setup_bridge() {
  mkns "$NSA"
  mkns "$NSB"
  mkns "$NSR"
  ip -n "$NSR" link add br0 type bridge
  ip link add veth-a netns "$NSA" type veth peer name veth-ra netns "$NSR"
  ip link add veth-b netns "$NSB" type veth peer name veth-rb netns "$NSR"
  ip -n "$NSR" link set veth-ra master br0
  ip -n "$NSR" link set veth-rb master br0
  ip -n "$NSA" addr add 10.77.0.1/24 dev veth-a
  ip -n "$NSB" addr add 10.77.0.2/24 dev veth-b
  local dev
  for dev in br0 veth-ra veth-rb; do ip -n "$NSR" link set "$dev" up; done
  ip -n "$NSA" link set veth-a up
  ip -n "$NSB" link set veth-b up
}

# alive_run CLIENT SERVER CLOSE_AT STOP_AT: the client (keepalive 1/1/3) sends 120 B at 0.05 (the
# server echoes), its probes are answered, it closes at CLOSE_AT; the capture stops at STOP_AT.
alive_run() {
  local c=$1 s=$2
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 10, "listeners": [{"addr": "${s%:*}", "port": ${s##*:}, "echo": true}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 10, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $(ka 1 1 3),
 "actions": [{"t": 0.05, "do": "send", "bytes": 120}, {"t": $3, "do": "close"}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until "$4"
  cap_stop
}

# any_twice NAME CLIENT SERVER WHY SUMMARY NOTES: the alive exchange, captured with tcpdump -i any
# in the middle namespace (kafx-r, set up by the caller), where each packet is seen twice.
any_twice() {
  local name=$1 c=$2 s=$3
  cap_start "$NSR" "$name" "${TCPDUMP[@]}" -i any -w "$OUT/$name.pcap" tcp
  set_t0 1.0
  alive_run "$c" "$s" 4.65 5.8
  echo "[$(conn_json "$c" "$s" "$(ka 1 1 3)" null alive "client sent 120 B at @{0.05}, server echoed; probes about every 1 s (idle 1), each answered; client closed normally at @{4.65}. Every packet is in the capture twice: $4" '{"minProbes": {"client": 6}, "syn": true}')]" >"$WORK/conns.json"
  write_meta name="$name" files="$name.pcap" tool=tcpdump command="$(cmd_of "$name")" conns=@"$WORK/conns.json" summary="$5" \
    notes="$6 The capture runs in kafx-r on every interface (Linux cooked v2, tcpdump's link type for -i any); tshark flags each probe and each probe ACK twice. Capture filter 'tcp'."
  finalize "$name"
}

sc_fmt-any-bridge() {
  setup_bridge
  any_twice fmt-any-bridge 10.77.0.1:41020 10.77.0.2:9120 'once per bridge port' \
    'tcpdump -i any on a Linux bridge: every packet twice (once per port, microseconds apart); keepalive 1/1/3, answered' \
    'Three namespaces: client kafx-a 10.77.0.1 and server kafx-b 10.77.0.2, joined by a bridge br0 in kafx-r (ports veth-ra, veth-rb), as containers on one host are. Each packet is captured entering the bridge on one port and leaving it on the other, so the file holds every TCP segment twice, identical, microseconds apart.'
}

sc_fmt-any-router() {
  setup_router
  any_twice fmt-any-router 10.77.0.1:41021 10.77.2.2:9121 'as it came in and as it was forwarded' \
    'tcpdump -i any on a Linux router: every packet twice (in, and forwarded with its TTL one lower); keepalive 1/1/3, answered' \
    'Three namespaces: client kafx-a 10.77.0.1 -- router kafx-r (10.77.0.254 and 10.77.2.254, ip_forward on) -- server kafx-b 10.77.2.2. Each packet is captured as it arrives on one veth and as it leaves on the other: TTL one lower and the IP checksum changed, the TCP bytes and the IP id the same.'
}

sc_fmt-ipv4-options() {
  setup_pair
  local c=10.77.0.1:40005 s=10.77.0.2:9005
  cap_start "$NSA" o "${TCPDUMP[@]}" -i veth-a -w "$OUT/fmt-ipv4-options.pcap"
  set_t0 1.0
  # Record Route, 2 slots (type 7, len 11, ptr 4) + EOL: IHL 8 (32-byte IPv4 header)
  CLIENT_EXTRA=', "ipopts": "070b04000000000000000000"' \
    CLIENT_EXTRA_ACTIONS=', {"t": 0.6, "do": "udp", "to": "10.77.0.2:9", "bytes": 3000}' basic_specs "$c" "$s"
  run_basic
  echo "[$(basic_conn "$c" "$s" '. Also at @{0.6} a 3000-byte UDP datagram to 10.77.0.2:9 (IPv4 fragments) and the ICMP port-unreachable reply: non-TCP noise')]" >"$WORK/conns.json"
  write_meta name=fmt-ipv4-options files=fmt-ipv4-options.pcap tool=tcpdump command="$(cmd_of o)" conns=@"$WORK/conns.json" \
    summary='IPv4 header with options (Record Route, IHL 8) on every TCP segment, plus UDP fragments' \
    notes='The client socket sets IP_OPTIONS = Record Route with 2 slots + EOL (12 option bytes, IPv4 header 32 bytes); the kernel fills the first slot. The server kernel echoes the options from the SYN, so its segments carry them too (see the file). Besides, a 3000-byte UDP datagram (DF clear) goes out as 3 IPv4 fragments, answered by ICMP port unreachable. Unfiltered, client side.'
  finalize fmt-ipv4-options
}

sc_fmt-ipv6-exthdr() {
  setup_pair
  local c='[fd77::1]:40006' s='[fd77::2]:9006'
  cap_start "$NSA" x "${TCPDUMP[@]}" -i veth-a -w "$OUT/fmt-ipv6-exthdr.pcap"
  set_t0 1.0
  # client: hop-by-hop header with PadN(4); server: destination options with an
  # experimental option 0x1e (skip if unknown) carrying 4 bytes
  CLIENT_EXTRA=', "hopopts": "0000010400000000"' SERVER_EXTRA=', "dstopts": "00001e04deadbeef"' \
    CLIENT_EXTRA_ACTIONS=', {"t": 0.6, "do": "udp", "to": "[fd77::2]:9", "bytes": 4000}' basic_specs "$c" "$s"
  run_basic
  echo "[$(basic_conn "$c" "$s" '. Also at @{0.6} a 4000-byte UDP datagram to [fd77::2]:9 (IPv6 Fragment headers) and the ICMPv6 port-unreachable reply')]" >"$WORK/conns.json"
  write_meta name=fmt-ipv6-exthdr files=fmt-ipv6-exthdr.pcap tool=tcpdump command="$(cmd_of x)" conns=@"$WORK/conns.json" \
    summary='IPv6 extension headers before TCP: hop-by-hop (client->server) and destination options (server->client); UDP fragments' \
    notes='Client socket: IPV6_HOPOPTS = 8-byte hop-by-hop header with a PadN option, so every client segment is IPv6 / Hop-by-Hop / TCP. Server listener: IPV6_DSTOPTS = 8-byte destination options header with option type 0x1e (experimental, skip if unknown) and 4 data bytes, inherited by the accepted socket: every server segment, SYN-ACK included, is IPv6 / Destination Options / TCP. Besides, a 4000-byte UDP datagram goes out as IPv6 fragments (Fragment header) and an ICMPv6 port unreachable comes back. Unfiltered, client side.'
  finalize fmt-ipv6-exthdr
}

sc_fmt-ipv4-frag() {
  setup_router
  local c=10.77.0.1:40007 s=10.77.2.2:9007
  cap_start "$NSA" f "${TCPDUMP[@]}" -i veth-a -w "$OUT/fmt-ipv4-frag.pcap"
  set_t0 1.0
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 9, "listeners": [{"addr": "10.77.2.2", "port": 9007, "echo": false, "pmtudisc_dont": true,
  "actions": [{"t": 0.1, "do": "send", "bytes": 3000}, {"t": 0.3, "do": "send", "bytes": 1400}]}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 9, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $(ka 1 1 3),
 "actions": [{"t": 0.05, "do": "send", "bytes": 100}, {"t": 4.9, "do": "close"}]}]}
EOF
  run_basic
  echo "[$(conn_json "$c" "$s" "$(ka 1 1 3)" null alive 'client sent 100 B at @{0.05}; server sent 3000 B at @{0.1} and 1400 B at @{0.3} with DF clear, which the router fragmented (MTU 700); idle: client probes every ~1 s, answered; client closed normally at @{4.9}' '{"minProbes": {"client": 3}, "syn": true}')]" >"$WORK/conns.json"
  write_meta name=fmt-ipv4-frag files=fmt-ipv4-frag.pcap tool=tcpdump command="$(cmd_of f)" conns=@"$WORK/conns.json" \
    summary='TCP data segments arriving as IPv4 fragments (DF clear, router MTU 700)' \
    notes='Three namespaces: client kafx-a 10.77.0.1 (veth MTU 1500, so it advertises MSS 1460) -- router kafx-r (its veth towards the client has MTU 700) -- server kafx-b 10.77.2.2. The server socket has IP_MTU_DISCOVER = IP_PMTUDISC_DONT (DF clear), so its 1448-byte segments are fragmented by the router into 3 IPv4 fragments each (offset 0 holds the TCP header; the others have no TCP header). Captured on the client veth, unfiltered.'
  finalize fmt-ipv4-frag
}

# single-connection ka-* scenarios share this: TCP-only capture on the client veth
ka_capture() { cap_start "$NSA" k "${TCPDUMP[@]}" -i veth-a -w "$OUT/$1.pcap" tcp; }
KA_NOTE="Capture filter 'tcp' (no ARP/ND noise), client side (veth in kafx-a)."

sc_ka-alive() {
  setup_pair
  local c=10.77.0.1:41001 s=10.77.0.2:9101
  ka_capture ka-alive
  set_t0 1.0
  alive_run "$c" "$s" 5.65 6.8
  echo "[$(conn_json "$c" "$s" "$(ka 1 1 3)" null alive 'client sent 120 B at @{0.05}, server echoed; probes about every 1 s (idle 1), each answered; client closed normally at @{5.65}' '{"minProbes": {"client": 4}, "syn": true}')]" >"$WORK/conns.json"
  write_meta name=ka-alive files=ka-alive.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='Linux keepalive idle 1 s, interval 1, count 3; peer answers every probe; normal close' \
    notes="$KA_NOTE Answered probes come idle (1 s) after the previous answer. (Here idle = interval; when interval > idle, Linux spaces answered probes by interval: see ka-many.)"
  finalize ka-alive
}

# dead_peer NAME CLIENT SERVER KEEPALIVE: the client sends 120 B (echoed), then from t0+0.5 the
# server's replies are blackholed; the capture stops at t0+8.6. Sets ERRNO to what the client
# application saw.
dead_peer() {
  local name=$1 c=$2 s=$3 keepalive=$4
  setup_pair
  ka_capture "$name"
  set_t0 1.0
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 12, "listeners": [{"addr": "10.77.0.2", "port": ${s##*:}, "echo": true}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 12, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $keepalive,
 "actions": [{"t": 0.05, "do": "send", "bytes": 120}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  at 0.5 ip -n "$NSB" route add blackhole 10.77.0.1/32
  sleep_until 8.6
  cap_stop
  ERRNO=$(grep '"error"' "$WORK/client.log" | head -1 | $PY -c 'import json,sys; d=sys.stdin.read().strip(); print(json.loads(d)["errno"] if d else "none")')
}
DEAD_EVENTS="client sent 120 B at @{0.05}, server echoed; at @{0.5} the server's replies were blackholed (ip route add blackhole 10.77.0.1/32 in kafx-b)"
DEAD_NOTE="The server kernel still receives the probes but its ACKs are dropped by a blackhole route in kafx-b, so on the wire the peer is silent."

sc_ka-dead() {
  local c=10.77.0.1:41002 s=10.77.0.2:9102
  dead_peer ka-dead "$c" "$s" "$(ka 1 2 3)"
  echo "[$(conn_json "$c" "$s" "$(ka 1 2 3)" null dead "$DEAD_EVENTS: 3 unanswered probes 2 s apart, then the client's RST one interval after the last probe (client application saw $ERRNO)" '{"minProbes": {"client": 3}, "maxProbes": {"client": 3}, "syn": true}')]" >"$WORK/conns.json"
  write_meta name=ka-dead files=ka-dead.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='peer vanishes: idle 1 s, interval 2 s, count 3: 3 unanswered probes then the prober RST' \
    notes="$KA_NOTE $DEAD_NOTE"
  finalize ka-dead
}

sc_ka-user-timeout() {
  local c=10.77.0.1:41012 s=10.77.0.2:9112
  dead_peer ka-user-timeout "$c" "$s" '{"idle": 1, "interval": 2, "count": 9, "user_timeout": 6}'
  echo "[$(conn_json "$c" "$s" '{"idle": 1, "interval": 2, "count": 9, "userTimeout": 6}' null dead "$DEAD_EVENTS: probes 2 s apart from 1 s after the last segment received; at the first timer tick 6 s or more after it the client sent its RST, after 3 probes instead of TCP_KEEPCNT 9, because TCP_USER_TIMEOUT is 6 s (client application saw $ERRNO)" '{"minProbes": {"client": 3}, "maxProbes": {"client": 3}, "syn": true}')]" >"$WORK/conns.json"
  write_meta name=ka-user-timeout files=ka-user-timeout.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='peer vanishes; idle 1 s, interval 2 s, count 9 and TCP_USER_TIMEOUT 6 s: the user timeout, not the count, ends probing after 3 probes' \
    notes="$KA_NOTE $DEAD_NOTE The client socket also sets TCP_USER_TIMEOUT 6000 ms: Linux then ignores TCP_KEEPCNT and gives up at the first keepalive timer tick at least 6 s after the last segment received, once a probe is out (tcp_keepalive_timer). On the wire this is the same as count 3 without a user timeout."
  finalize ka-user-timeout
}

sc_ka-reset() {
  setup_pair
  local c=10.77.0.1:41003 s=10.77.0.2:9103
  ka_capture ka-reset
  set_t0 1.0
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 8, "listeners": [{"addr": "10.77.0.2", "port": 9103, "echo": true,
  "actions": [{"t": 1.0, "do": "abort"}]}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 8, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $(ka 2 1 3),
 "actions": [{"t": 0.05, "do": "send", "bytes": 120}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  at 0.8 ip -n "$NSB" route add blackhole 10.77.0.1/32
  at 1.3 ip -n "$NSB" route del blackhole 10.77.0.1/32
  sleep_until 3.4
  cap_stop
  echo "[$(conn_json "$c" "$s" "$(ka 2 1 3)" null reset 'client sent 120 B at @{0.05}, server echoed; the server socket was aborted (SO_LINGER 0) at @{1.0} while its RST was blackholed (@{0.8}..@{1.3}), so the client never saw it; the first probe (idle 2 s) is answered by RST from the server kernel' '{"minProbes": {"client": 1}, "syn": true}')]" >"$WORK/conns.json"
  write_meta name=ka-reset files=ka-reset.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='peer forgot the connection: the first probe is answered by RST' notes="$KA_NOTE"
  finalize ka-reset
}

sc_ka-both-ends() {
  setup_pair
  local c=10.77.0.1:41004 s=10.77.0.2:9104
  ka_capture ka-both-ends
  set_t0 1.0
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 14, "listeners": [{"addr": "10.77.0.2", "port": 9104, "echo": true, "keepalive": $(ka 3 1 3)}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 14, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $(ka 2 1 3),
 "actions": [{"t": 0.05, "do": "send", "bytes": 120}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 11.2
  cap_stop
  echo "[$(conn_json "$c" "$s" "$(ka 2 1 3)" "$(ka 3 1 3)" alive 'client sent 120 B at @{0.05}, server echoed; both ends probe on their own clock (client idle 2 s, server idle 3 s) and each answers the other; connection still open at the end' '{"minProbes": {"client": 4, "server": 2}, "syn": true}')]" >"$WORK/conns.json"
  write_meta name=ka-both-ends files=ka-both-ends.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='keepalive on both sockets: client idle 2 s, server idle 3 s; each answers the other' \
    notes="$KA_NOTE TCP_KEEPIDLE takes whole seconds, so the idles are 2 and 3 s. A probe from the peer does not restart the receiver's own idle clock (it is out of window); the answer to one's own probe does."
  finalize ka-both-ends
}

sc_ka-data-restarts() {
  setup_pair
  local c=10.77.0.1:41005 s=10.77.0.2:9105
  ka_capture ka-data-restarts
  set_t0 1.0
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 14, "listeners": [{"addr": "10.77.0.2", "port": 9105, "echo": true}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 14, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $(ka 2 1 3),
 "actions": [{"t": 0.5, "do": "send", "bytes": 100}, {"t": 1.2, "do": "send", "bytes": 100},
             {"t": 2.9, "do": "send", "bytes": 100}, {"t": 6.0, "do": "send", "bytes": 100},
             {"t": 10.7, "do": "close"}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 11.6
  cap_stop
  echo "[$(conn_json "$c" "$s" "$(ka 2 1 3)" null alive 'idle 2 s; client sent 100 B at @{0.5}, @{1.2}, @{2.9} and @{6.0}, each echoed by the server: gaps 0.7 and 1.7 s have no probe, the 3.1 s gap has one probe ~2 s after @{2.9}; after @{6.0} probes every ~2 s, answered; client closed normally at @{10.7}' '{"minProbes": {"client": 3}, "syn": true}')]" >"$WORK/conns.json"
  write_meta name=ka-data-restarts files=ka-data-restarts.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='application data at irregular times restarts the idle clock (idle 2 s)' notes="$KA_NOTE"
  finalize ka-data-restarts
}

sc_ka-ipv6() {
  setup_pair
  local c='[fd77::1]:41006' s='[fd77::2]:9106'
  ka_capture ka-ipv6
  set_t0 1.0
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 11, "listeners": [{"addr": "fd77::2", "port": 9106, "echo": true}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 11, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $(ka 2 1 4),
 "actions": [{"t": 0.05, "do": "send", "bytes": 120}, {"t": 7.3, "do": "close"}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 8.3
  cap_stop
  echo "[$(conn_json "$c" "$s" "$(ka 2 1 4)" null alive 'client sent 120 B at @{0.05}, server echoed; probes every ~2 s, answered; client closed normally at @{7.3}' '{"minProbes": {"client": 3}, "syn": true}')]" >"$WORK/conns.json"
  write_meta name=ka-ipv6 files=ka-ipv6.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='keepalive over IPv6 (idle 2 s, interval 1, count 4), answered' notes="$KA_NOTE"
  finalize ka-ipv6
}

sc_ka-many() {
  setup_pair
  set_t0 2.0
  $PY "$HERE/plan_many.py" "$SEED" "$T0" "$WORK" 24 20
  local line
  while read -r line; do
    # shellcheck disable=SC2086
    ip -n "$NSB" $line
  done <"$WORK/setup.tsv"
  ka_capture ka-many
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  local rel cmd
  while IFS=$'\t' read -r rel cmd; do
    # shellcheck disable=SC2086
    at "$rel" ip -n "$NSB" $cmd
  done <"$WORK/timeline.tsv"
  sleep_until 20.0
  cap_stop
  $PY - "$WORK/conns.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
for x in c:
    x.pop('plan', None)
json.dump(c, open(p, 'w'))
PY
  write_meta name=ka-many files=ka-many.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary="24 concurrent connections, random idle 1-3 s / interval 1-2 s / count 2-4 and random fates (seed $SEED)" \
    notes="$KA_NOTE Planned by scripts/record/plan_many.py with seed $SEED (KAFX_SEED). Connection i: client 10.77.0.1:(42000+i) -> server 10.77.0.(10+i):(9200+i); each server has its own address in kafx-b so one server's replies can be blackholed alone (ip rule add from 10.77.0.(10+i) lookup 100; table 100 = blackhole 10.77.0.1/32). Every client sends 64+i bytes 0.05 s after connecting, echoed by its server."
  finalize ka-many
}

sc_ka-zero-window() {
  setup_pair
  local c=10.77.0.1:41008 s=10.77.0.2:9108
  ka_capture ka-zero-window
  set_t0 1.0
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 11, "listeners": [{"addr": "10.77.0.2", "port": 9108, "rcvbuf": 2048, "read": false}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 11, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": null,
 "actions": [{"t": 0.1, "do": "fill"}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 7.6
  cap_stop
  echo "[$(conn_json "$c" "$s" null null no-keepalive 'server listener has SO_RCVBUF 2048 (set before listen) and never reads; from @{0.1} the client writes as much as it can; the receive window falls to 0 and the client kernel sends zero-window probes (seq = SND.UNA - 1, no data) with exponential backoff (about 0.2, 0.4, 0.8, 1.7, 3.4 s apart), answered by ACKs with window 0 except the second probe: it comes less than 0.5 s after the first answer and the server kernel rate-limits ACKs to out-of-window segments (net.ipv4.tcp_invalid_ratelimit = 500 ms); keepalive is off; connection still open at the end' '{"tsharkFate": "alive", "minProbes": {"client": 4}, "syn": true}')]" >"$WORK/conns.json"
  write_meta name=ka-zero-window files=ka-zero-window.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='zero-window probes (NOT keepalive): Linux probes a closed window exactly like a keepalive, backed off' \
    notes="$KA_NOTE Keepalive is off on both sockets: every empty seq = SND.UNA - 1 segment here is a zero-window probe, at exponentially growing spacing, answered by ACKs advertising window 0 (not the second: see events). tshark 4.0 flags them tcp.analysis.keep_alive (wrongly); an analyser must not."
  finalize ka-zero-window
}

sc_ka-midstream() {
  setup_pair
  local c=10.77.0.1:41009 s=10.77.0.2:9109
  set_t0 1.0
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 11, "listeners": [{"addr": "10.77.0.2", "port": 9109, "echo": true}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 11, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $(ka 2 1 3),
 "actions": [{"t": 0.05, "do": "send", "bytes": 150}, {"t": 0.6, "do": "send", "bytes": 150},
             {"t": 7.3, "do": "close"}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 1.5
  ka_capture ka-midstream
  sleep_until 8.3
  cap_stop
  echo "[$(conn_json "$c" "$s" "$(ka 2 1 3)" null alive 'connected at @{0.0} and exchanged data (150 B at @{0.05} and @{0.6}, echoed) before tcpdump was started at about @{1.5} (its first frame is the first probe): no SYN in the file; probes every ~2 s, answered; client closed normally at @{7.3}' '{"tsharkFate": "closed", "minProbesByAck": {"client": 2}, "syn": false}')]" >"$WORK/conns.json"
  write_meta name=ka-midstream files=ka-midstream.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='capture started mid-connection (no handshake); the first segment seen per direction is a probe or its ACK' \
    notes="$KA_NOTE tcpdump was started about 1.5 s after the connection was established and had exchanged data, so the file has no SYN and begins in the idle gap: the first client segment is a keepalive probe. Times before the first frame are negative. tshark 4.0 cannot tell these probes from duplicate ACKs without having seen the connection's earlier segments: it flags none as keep-alive (it reports Dup ACK / ACKed unseen segment)."
  finalize ka-midstream
}

seq_wrap_common() { # name port wrap_plus summary verify-extra
  local name=$1 port=$2 plus=$3 summary=$4 vextra=$5 xnote=${6:-}
  setup_pair
  local c=10.77.0.1:$port s=10.77.0.2:$((port - 41000 + 9100))
  local pay='(ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2))'
  # keep: SYN/FIN/RST; client segments with <= 1 data byte or seq in the first/last 16 MiB
  # of the sequence space or in the first 1 MiB of every 256 MiB (so that no jump between
  # kept segments exceeds 2^31 and sequence tracking still works); server segments with
  # data or an ack number in the same ranges
  local near='(tcp[N:4] & 0xff000000) = 0 or (tcp[N:4] & 0xff000000) = 0xff000000 or (tcp[N:4] & 0x0ff00000) = 0'
  local filt="tcp and ((tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0) or (src host 10.77.0.1 and ($pay <= 1 or ${near//N/4})) or (src host 10.77.0.2 and ($pay > 0 or ${near//N/8})))"
  cap_start "$NSA" k "${TCPDUMP[@]}" -s 96 -B 16384 -i veth-a -w "$OUT/$name.pcap" "$filt"
  set_t0 1.0
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 40, "listeners": [{"addr": "10.77.0.2", "port": ${s##*:}, "sink": true}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 40, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $(ka 1 1 3),
 "actions": [{"t": 0.05, "do": "send", "bytes": 100}, {"t": 0.2, "do": "bulk", "wrap_plus": $plus}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  local done_rel
  done_rel=$(wait_event client bulk_done 30)
  sleep_until "$(awk -v d="$done_rel" 'BEGIN{print d + 4.7}')"
  cap_stop
  local seqinfo
  seqinfo=$(grep '"event": "seq"' "$WORK/client.log" | $PY -c 'import json,sys; d=json.loads(sys.stdin.read()); print("write_seq after the handshake and the first 100 B was %d (0x%08x); the client then sent %d bytes in one go, ending with SND.NXT = %d (0x%08x)" % (d["write_seq"], d["write_seq"], d["bulk_bytes"], d["final_snd_nxt"], d["final_snd_nxt"]))')
  echo "[$(conn_json "$c" "$s" "$(ka 1 1 3)" null alive "client sent 100 B at @{0.05}; from @{0.2} to @{$done_rel} a bulk transfer: $seqinfo, so the client sequence number wrapped past 2^32; then idle: probes every ~1 s, answered; still open at the end" "{\"minProbesByAck\": {\"client\": 3}, \"syn\": true, \"seqWrap\": true $vextra}")]" >"$WORK/conns.json"
  write_meta name="$name" files="$name.pcap" tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary="$summary" \
    notes="Snap length 96 and a capture filter that keeps only SYN/FIN/RST, client segments with <= 1 byte of data or a sequence number in the first or last 16 MiB of the sequence space or in the first 1 MiB of every 256 MiB, and server segments with data or an ack number in those ranges: most of the bulk transfer is NOT in the file (the sequence numbers jump, by at most about 256 MiB, always less than 2^31), but every segment near the wrap, the handshake and all probes and their ACKs are. The first 100 B of data are filtered out too. The bulk size was computed from the socket's write_seq, read with TCP_REPAIR (repair mode entered and left without sending anything). Client side. $xnote"
  finalize "$name"
}
sc_ka-seq-wrap() { seq_wrap_common ka-seq-wrap 41010 3145728 'client sequence numbers wrap past 2^32 (3 MiB past it), then keepalive probes with small seq' ', "minProbes": {"client": 3}'; }
sc_ka-seq-wrap-edge() { seq_wrap_common ka-seq-wrap-edge 41011 0 'data ends exactly at 2^32 (SND.NXT = 0): every probe has seq 0xffffffff and its ACK ack 0' ', "probeSeq": 4294967295, "minProbes": {"client": 1}' \
  'tshark 4.0 flags only the first of these probes as keep-alive and calls the later ones Dup ACKs (its wrap handling at seq 0xffffffff); all of them are keepalive probes.'; }

# ------------------------------------------------------------------ application heartbeats
# hb-* scenarios: heartbeats written by the application (peer.py "every"/"reply"), with and
# without TCP keepalive, and traffic that is NOT a heartbeat.  Clients 10.77.0.1:4300x,
# servers 10.77.0.2:930x; TCP-only capture on the client veth.  Each connection's truth has
# "heartbeat": {"period", "from", "requestBytes", "replyBytes"} as configured, or null.

# hb PERIOD FROM REQUEST_BYTES REPLY_BYTES|null -> heartbeat JSON
hb() { echo "{\"period\": $1, \"from\": \"$2\", \"requestBytes\": $3, \"replyBytes\": $4}"; }
HB_NOTE="$KA_NOTE The heartbeats are written by the application (scripts/record/peer.py) on a fixed schedule from the connect time (beat k planned at t0 + first + k * period, so scheduling errors do not add up); the heartbeat object is the configuration, observed.heartbeat what the capture shows."
PING_HEX=50494e470d0a # "PING\r\n"
PONG_HEX=504f4e470d0a # "PONG\r\n"
# peers need time to start on a busy machine: T0 this far ahead (the checks below retry a
# recording whose client connected more than 0.1 s late)
HB_LEAD=2.0
# hb_capture NAME: like ka_capture, with a 32 MiB capture buffer (-B): at the full snap
# length tcpdump's ring holds only a few frames per MiB, and a burst overflows the default
hb_capture() { cap_start "$NSA" k "${TCPDUMP[@]}" -B 32768 -i veth-a -w "$OUT/$1.pcap" tcp; }
# hb_no_drops: fail the attempt if tcpdump lost frames (the checks count bytes and beats)
hb_no_drops() {
  local d
  d=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$WORK/cap-k.err")
  if [ "${d:-missing}" != 0 ]; then
    log "tcpdump dropped packets: ${d:-no statistics}"
    return 1
  fi
}
# every hb-* check: the client connected on time (else the planned times are off; retried)
HB_NOPROBES='"maxSynLag": 0.1, "maxProbes": {"client": 0, "server": 0}, "maxProbesByAck": {"client": 0, "server": 0}'

sc_hb-pingpong() {
  setup_pair
  local c=10.77.0.1:43001 s=10.77.0.2:9301
  hb_capture hb-pingpong
  set_t0 "$HB_LEAD"
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 16, "listeners": [{"addr": "10.77.0.2", "port": 9301, "keepalive": null,
  "reply": {"per": 6, "hex": "$PONG_HEX"}}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 16, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": null,
 "actions": [{"t": 1.0, "every": 1.0, "until": 12.0, "do": "send", "hex": "$PING_HEX"},
             {"t": 12.5, "do": "close"}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 13.5
  cap_stop
  hb_no_drops
  local v="{$HB_NOPROBES, \"syn\": true, \"heartbeat\": {\"minBeats\": 12, \"tolerance\": 0.05, \"replyWithin\": 0.05, \"requestHex\": \"$PING_HEX\", \"replyHex\": \"$PONG_HEX\"}}"
  echo "[$(conn_json "$c" "$s" null null closed 'connected at @{0.0}; the client application sends "PING\r\n" (6 B) every 1.0 s from @{1.0} to @{12.0} (12 beats), the server application answers each at once with "PONG\r\n" (6 B); no other data; keepalive off on both sockets; the client closed normally (FIN) at @{12.5}, the server closed on EOF' \
    "$v" "$(hb 1.0 client 6 6)")]" >"$WORK/conns.json"
  write_meta name=hb-pingpong files=hb-pingpong.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='application heartbeat: client PING (6 B) every 1.0 s, server PONG (6 B) at once; no TCP keepalive; normal close' \
    notes="$HB_NOTE"
  finalize hb-pingpong
}

sc_hb-oneway() {
  setup_pair
  local c=10.77.0.1:43002 s=10.77.0.2:9302
  hb_capture hb-oneway
  set_t0 "$HB_LEAD"
  # the peers outlive the capture: the connection is still open when it stops
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 17, "listeners": [{"addr": "10.77.0.2", "port": 9302, "keepalive": null,
  "actions": [{"t": 1.0, "every": 2.0, "until": 13.0, "do": "send", "hex": "c000"}]}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 17, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": null,
 "actions": []}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 14.5
  cap_stop
  hb_no_drops
  local v="{$HB_NOPROBES, \"syn\": true, \"heartbeat\": {\"minBeats\": 7, \"tolerance\": 0.05, \"requestHex\": \"c000\"}}"
  echo "[$(conn_json "$c" "$s" null null no-keepalive 'connected at @{0.0}; the server application sends a 2-byte frame (0xc0 0x00, like an MQTT PINGREQ or a websocket ping that is never answered) every 2.0 s from @{1.0} to @{13.0} (7 beats); the client application never writes (its kernel only ACKs each beat); keepalive off on both sockets; connection still open when the capture stopped at about @{14.5}' \
    "$v" "$(hb 2.0 server 2 null)")]" >"$WORK/conns.json"
  write_meta name=hb-oneway files=hb-oneway.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='one-way application heartbeat: server sends 2 B (0xc0 0x00) every 2.0 s, never answered; no TCP keepalive; still open' \
    notes="$HB_NOTE The client's only segments after the handshake are its kernel's ACKs of the beats."
  finalize hb-oneway
}

sc_hb-bursts() {
  setup_pair
  local c=10.77.0.1:43003 s=10.77.0.2:9303
  hb_capture hb-bursts
  set_t0 "$HB_LEAD"
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 15, "listeners": [{"addr": "10.77.0.2", "port": 9303, "keepalive": null, "echo": true}]}
EOF
  local small='"do": "send", "bytes": 40' burst='"do": "send", "bytes": 1400, "count": 20'
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 15, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": null, "nodelay": true,
 "actions": [{"t": 0.3, $small}, {"t": 1.0, $burst}, {"t": 1.7, $small}, {"t": 2.1, $small},
             {"t": 3.4, $burst}, {"t": 4.8, $small}, {"t": 5.0, $small}, {"t": 6.2, $burst},
             {"t": 7.9, $small}, {"t": 9.3, $burst}, {"t": 11.0, "do": "close"}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 12.0
  cap_stop
  hb_no_drops
  local total=$((4 * 20 * 1400 + 6 * 40))
  local v="{$HB_NOPROBES, \"syn\": true, \"bytes\": {\"client\": $total, \"server\": $total}}"
  echo "[$(conn_json "$c" "$s" null null closed 'NOT a heartbeat: the client (TCP_NODELAY) sends bursts of 20 back-to-back 1400-byte writes (28000 B) at @{1.0}, @{3.4}, @{6.2} and @{9.3}, and 40-byte messages at irregular times @{0.3}, @{1.7}, @{2.1}, @{4.8}, @{5.0} and @{7.9}; the server echoes everything; keepalive off on both sockets; the client closed normally (FIN) at @{11.0}, the server closed on EOF' \
    "$v" null)]" >"$WORK/conns.json"
  write_meta name=hb-bursts files=hb-bursts.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='NOT a heartbeat: bursts of 20 x 1400 B and 40-byte messages at irregular times, echoed; no TCP keepalive' \
    notes="$KA_NOTE The small messages are all 40 B and each is echoed as 40 B, but they come at irregular times (0.2 to 2.9 s apart) between bulk bursts: an analyser must not call this a heartbeat. The veth has segmentation offload, so a burst and its echo can appear as fewer, bigger segments than there were writes."
  finalize hb-bursts
}

sc_hb-with-keepalive() {
  setup_pair
  local c=10.77.0.1:43004 s=10.77.0.2:9304
  hb_capture hb-with-keepalive
  set_t0 "$HB_LEAD"
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 17, "listeners": [{"addr": "10.77.0.2", "port": 9304, "keepalive": null,
  "reply": {"per": 6, "hex": "$PONG_HEX"}}]}
EOF
  # first beat at 0.5, not 1.0: the keepalive timer armed at connect fires at about 1.0
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 17, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": $(ka 1 1 3),
 "actions": [{"t": 0.5, "every": 3.0, "until": 12.5, "do": "send", "hex": "$PING_HEX"},
             {"t": 14.0, "do": "close"}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 15.0
  cap_stop
  hb_no_drops
  local v="{\"maxSynLag\": 0.1, \"minProbes\": {\"client\": 8}, \"maxProbes\": {\"server\": 0}, \"syn\": true, \"heartbeat\": {\"minBeats\": 5, \"tolerance\": 0.05, \"replyWithin\": 0.05, \"requestHex\": \"$PING_HEX\", \"replyHex\": \"$PONG_HEX\"}}"
  echo "[$(conn_json "$c" "$s" "$(ka 1 1 3)" null alive 'connected at @{0.0}; the client application sends "PING\r\n" (6 B) every 3.0 s from @{0.5} to @{12.5} (5 beats), the server application answers each at once with "PONG\r\n" (6 B); besides, TCP keepalive on the client (idle 1, interval 1, count 3): in every gap between beats the client kernel probes about 1 s and 2 s after the PONG, each probe answered by the server kernel; the client closed normally (FIN) at @{14.0}, the server closed on EOF' \
    "$v" "$(hb 3.0 client 6 6)")]" >"$WORK/conns.json"
  write_meta name=hb-with-keepalive files=hb-with-keepalive.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='application heartbeat (PING/PONG every 3.0 s) AND client TCP keepalive idle 1 / interval 1 / count 3 probing between beats' \
    notes="$HB_NOTE The PONG (data received) restarts the client's keepalive idle clock, its own PING does not; so the probes come about 1 s and 2 s after each PONG, answered, until the next beat. The probes carry no data, the beats 6 bytes."
  finalize hb-with-keepalive
}

sc_hb-silent() {
  setup_pair
  local c=10.77.0.1:43005 s=10.77.0.2:9305
  hb_capture hb-silent
  set_t0 "$HB_LEAD"
  cat >"$WORK/server.json" <<EOF
{"t0": $T0, "end": 16, "listeners": [{"addr": "10.77.0.2", "port": 9305, "keepalive": null, "echo": true}]}
EOF
  cat >"$WORK/client.json" <<EOF
{"t0": $T0, "end": 16, "connections": [{"id": "c", "bind": "$c", "connect": "$s", "keepalive": null,
 "actions": [{"t": 0.05, "do": "send", "bytes": 100}, {"t": 12.5, "do": "close"}]}]}
EOF
  peer "$NSB" server "$WORK/server.json" server
  peer "$NSA" client "$WORK/client.json" client
  sleep_until 13.5
  cap_stop
  hb_no_drops
  local v="{$HB_NOPROBES, \"syn\": true, \"minSilence\": 12.0, \"bytes\": {\"client\": 100, \"server\": 100}}"
  echo "[$(conn_json "$c" "$s" null null closed 'client sent 100 B at @{0.05}, server echoed; then no segment at all (no keepalive, no heartbeat, keepalive off on both sockets) until the client closed normally (FIN) at @{12.5}; the server closed on EOF' \
    "$v" null)]" >"$WORK/conns.json"
  write_meta name=hb-silent files=hb-silent.pcap tool=tcpdump command="$(cmd_of k)" conns=@"$WORK/conns.json" \
    summary='long silent gap: small exchange, then no segment at all for ~12.4 s (no keepalive, no heartbeat), then normal close' \
    notes="$KA_NOTE observed.longestSilence gives the gap as captured."
  finalize hb-silent
}

# ------------------------------------------------------------------ main
run_scenario() {
  local sc=$1 attempt
  for attempt in $(seq "${KAFX_ATTEMPTS:-3}"); do
    log "=== $sc (attempt $attempt)"
    rm -rf "$OUT"
    mkdir -p "$OUT"
    local rc=0
    # The scenario runs in a background subshell that we `wait` for: errexit stays active
    # in it, and a signal to this shell interrupts the wait at once (the EXIT trap then
    # stops the subshell, listed in pids, and everything it started).
    (
      set -e
      trap teardown EXIT
      trap 'exit 130' INT TERM HUP
      "sc_$sc"
    ) &
    local sub=$!
    echo "$sub" >>"$WORK/pids"
    set +e
    wait "$sub"
    rc=$?
    set -e
    teardown
    if [ $rc -eq 0 ]; then
      if [ "$sc" = fmt-basic ]; then rm -f "$FIX"/fmt-ring-*.pcap; fi
      mv -f "$OUT"/* "$FIX"/
      log "=== $sc done"
      return 0
    fi
    [ $rc -eq 130 ] && exit 130
    if [ -n "${KAFX_KEEP_FAILED:-}" ]; then mkdir -p "$KAFX_KEEP_FAILED" && cp -r "$OUT"/. "$WORK"/*.log "$WORK"/*.err "$WORK"/*.json "$KAFX_KEEP_FAILED"/ || true; fi
    log "=== $sc failed (attempt $attempt)"
  done
  FAILED+=("$sc")
  return 0
}

main() {
  if [ "${1:-}" = --list ]; then
    printf '%s\n' "${ALL_SCENARIOS[@]}"
    exit 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "record.sh: needs root (network namespaces, captures)" >&2
    exit 1
  fi
  local want=() a g seen=" "
  if [ $# -eq 0 ]; then
    want=("${ALL_SCENARIOS[@]}")
  else
    for a in "$@"; do
      g=$(group_of "$a")
      if ! declare -F "sc_$g" >/dev/null; then
        echo "record.sh: unknown scenario $a (see --list)" >&2
        exit 2
      fi
      case $seen in *" $g "*) ;; *) want+=("$g"); seen="$seen$g " ;; esac
    done
  fi
  mkdir -p "$FIX"
  : >"$WORK/pids"
  FAILED=()
  for g in "${want[@]}"; do
    # (never `run_scenario || ...`: that would switch errexit off inside the scenario)
    run_scenario "$g"
  done
  if [ -f "$FIX/README.md" ]; then $PY "$TRUTH" readme "$FIX/README.md" "$FIX"; fi
  if [ ${#FAILED[@]} -gt 0 ]; then
    log "FAILED: ${FAILED[*]}"
    exit 1
  fi
  log "all done"
}

main "$@"
