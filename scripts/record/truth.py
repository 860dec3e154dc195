#!/usr/bin/env python3
"""Finish one recorded fixture: inspect the capture files, run tshark over them, check
that the capture shows what the scenario intended, and write <name>.truth.json and
<name>.tshark.tsv into the fixtures directory.

usage: truth.py finalize META.json FIXDIR     (exit 1 if the capture does not match)
       truth.py info FILE...                  (link types, packets, timestamp resolution)
       truth.py table FIXDIR                  (markdown table of all truth files)
       truth.py readme README.md FIXDIR       (rewrite that table inside README.md)

META.json is written by record.sh:
  {"scenario", "recordedBy", "t0", "summary", "notes",
   "capture": {"tool", "command", "files": [...], "copies": [...]},
   "connections": [{"client", "server", "keepalive": {"client", "server"}, "fate",
                    "events" (may contain @{SECONDS}: seconds after t0, rewritten as
                              seconds after the first frame of the capture),
                    "verify": {"tsharkFate", "minProbes": {"client": n, "server": n},
                               "maxProbes": {...}, "minProbesByAck": {...}, "syn": bool,
                               "seqWrap": bool,
                               "probeSeq": int,
                               "maxProbesByAck": {"client": n, "server": n},
                               "bytes": {"client": n, "server": n},   # payload bytes sent
                               "minSilence": s,   # longest gap between two segments >= s
                               "maxSynLag": s,    # the SYN no later than t0 + s (the
                                                  # client connected on time: the @{} times hold)
                               "heartbeat": {"minBeats": n, "tolerance": s,
                                             "replyWithin": s, "requestHex": "..",
                                             "replyHex": ".."}}}]}
                   # a connection's "heartbeat" (the configured application heartbeat:
                   # {"period", "from", "requestBytes", "replyBytes"} or null) is copied
                   # to the truth; with verify.heartbeat the capture must show it: every
                   # data segment of "from" is a beat of requestBytes, the gaps are within
                   # tolerance of period, each beat is answered by replyBytes within
                   # replyWithin (or, replyBytes null, the other side sends no data)
"""
import gzip
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

TSHARK_FIELDS = ['frame.number', 'frame.time_relative', 'ip.src', 'ipv6.src', 'tcp.srcport',
                 'tcp.dstport', 'tcp.len', 'tcp.analysis.keep_alive', 'tcp.analysis.keep_alive_ack',
                 'tcp.analysis.zero_window_probe', 'tcp.analysis.zero_window', 'tcp.flags.str',
                 'tcp.seq_raw', 'tcp.ack_raw', 'ip.dst', 'ipv6.dst', 'frame.time_epoch']
TSV_COLUMNS = 14  # the .tshark.tsv keeps the first 14 columns


# ---------------------------------------------------------------- file inspection
def open_capture(path):
    with open(path, 'rb') as f:
        head = f.read(2)
    return gzip.open(path, 'rb') if head == b'\x1f\x8b' else open(path, 'rb')


def inspect(path):
    """Return dict(format, linkTypes, packets, firstTs, tsresol, byteOrder)."""
    with open_capture(path) as f:
        data = f.read()
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d'):
        e = '<' if magic[0] in (0xd4, 0x4d) else '>'
        nano = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
        snaplen, linktype = struct.unpack(e + 'II', data[16:24])
        off, n, first = 24, 0, None
        while off + 16 <= len(data):
            sec, frac, incl, _orig = struct.unpack(e + 'IIII', data[off:off + 16])
            if first is None:
                first = sec + frac / (1e9 if nano else 1e6)
            off += 16 + incl
            n += 1
        return {'format': 'pcap', 'linkTypes': [linktype & 0xffff], 'packets': n, 'firstTs': first,
                'tsresol': ['ns' if nano else 'us'], 'byteOrder': 'little' if e == '<' else 'big',
                'snaplen': snaplen}
    if magic == b'\x0a\x0d\x0d\x0a':
        off, n, first = 0, 0, None
        e = '<'
        ifs = []
        while off + 12 <= len(data):
            if data[off:off + 4] == b'\x0a\x0d\x0d\x0a':
                bom = data[off + 8:off + 12]
                e = '<' if bom == b'\x4d\x3c\x2b\x1a' else '>'
                ifs = []
            btype, blen = struct.unpack(e + 'II', data[off:off + 8])
            body = data[off + 8:off + blen - 4]
            if btype == 1:
                lt, _res, snap = struct.unpack(e + 'HHI', body[:8])
                res, tsoff = 6, 0
                o = 8
                while o + 4 <= len(body):
                    code, ln = struct.unpack(e + 'HH', body[o:o + 4])
                    if code == 0:
                        break
                    val = body[o + 4:o + 4 + ln]
                    if code == 9:
                        res = val[0]
                    if code == 14:
                        tsoff = struct.unpack(e + 'q', val[:8])[0]
                    o += 4 + ((ln + 3) & ~3)
                ifs.append({'linkType': lt, 'tsresol': res, 'tsoffset': tsoff, 'snaplen': snap})
            elif btype in (6, 2, 3):
                n += 1
                if btype in (6, 2) and first is None:
                    if btype == 6:
                        iid, hi, lo = struct.unpack(e + 'III', body[:12])
                    else:
                        iid, _drops, hi, lo = struct.unpack(e + 'HHII', body[:12])
                    r = ifs[iid]['tsresol']
                    units = (2 ** (r & 0x7f)) if r & 0x80 else 10 ** r
                    first = ((hi << 32) | lo) / units + ifs[iid]['tsoffset']
            off += blen
        def resname(r):
            return {6: 'us', 9: 'ns'}.get(r, f'tsresol={r}')
        return {'format': 'pcapng', 'linkTypes': [i['linkType'] for i in ifs], 'packets': n,
                'firstTs': first, 'tsresol': [resname(i['tsresol']) for i in ifs],
                'byteOrder': 'little' if e == '<' else 'big',
                'snaplen': [i['snaplen'] for i in ifs]}
    raise SystemExit(f'{path}: unknown capture format')


# ---------------------------------------------------------------- tshark
def tshark_rows(files):
    tmp = None
    src = files[0]
    if len(files) > 1:
        fd, tmp = tempfile.mkstemp(suffix='.pcapng')
        os.close(fd)
        subprocess.run(['mergecap', '-a', '-w', tmp] + files, check=True)
        src = tmp
    cmd = ['tshark', '-n', '-r', src, '-o', 'tcp.relative_sequence_numbers:TRUE', '-T', 'fields',
           '-E', 'header=y', '-E', 'separator=/t']
    for fld in TSHARK_FIELDS:
        cmd += ['-e', fld]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    if tmp:
        os.unlink(tmp)
    lines = out.rstrip('\n').split('\n')
    rows = [dict(zip(TSHARK_FIELDS, ln.split('\t'))) for ln in lines[1:] if ln]
    tsv = '\n'.join('\t'.join(ln.split('\t')[:TSV_COLUMNS]) for ln in lines) + '\n'
    return rows, tsv


def endpoint(row, which):
    ip = row['ip.' + which] or row['ipv6.' + which]
    # ICMP errors quote inner headers: tshark then lists two addresses; take the outer one
    ip = ip.split(',')[0]
    port = row['tcp.srcport' if which == 'src' else 'tcp.dstport']
    if not port:
        return None
    return f'[{ip}]:{port}' if ':' in ip else f'{ip}:{port}'


def observe(rows, client, server):
    """Summarise one connection as tshark 4.0 sees it."""
    segs = []
    for r in rows:
        s, d = endpoint(r, 'src'), endpoint(r, 'dst')
        if (s, d) == (client, server):
            side = 'client'
        elif (s, d) == (server, client):
            side = 'server'
        else:
            continue
        flags = r['tcp.flags.str']
        segs.append({'side': side, 'ka': r['tcp.analysis.keep_alive'] == '1',
                     't': float(r['frame.time_relative']), 'epoch': float(r['frame.time_epoch']),
                     'syn': 'S' in flags, 'fin': 'F' in flags, 'rst': 'R' in flags,
                     'seq': int(r['tcp.seq_raw'] or 0), 'len': int(r['tcp.len'] or 0),
                     'ack': int(r['tcp.ack_raw'] or 0),
                     'frame': int(r['frame.number'])})
    probes = {'client': 0, 'server': 0}
    answered = {'client': 0, 'server': 0}
    episodes = []  # (side, answer) in order
    for i, sg in enumerate(segs):
        if not sg['ka']:
            continue
        probes[sg['side']] += 1
        ans = 'none'
        for nx in segs[i + 1:]:
            if nx['side'] == sg['side']:
                if nx['ka']:
                    break
                continue
            ans = 'rst' if nx['rst'] else 'ack'
            break
        if ans == 'ack':
            answered[sg['side']] += 1
        episodes.append((sg['side'], ans, i))
    rst_by = sorted({sg['side'] for sg in segs if sg['rst']})
    fin_by = sorted({sg['side'] for sg in segs if sg['fin']})
    fate = None
    if episodes:
        if any(a == 'rst' for _, a, _ in episodes):
            fate = 'reset'
        else:
            side, ans, idx = episodes[-1]
            if ans == 'ack':
                fate = 'alive'
            elif any(sg['rst'] and sg['side'] == side for sg in segs[idx + 1:]):
                fate = 'dead'
            else:
                fate = 'undetermined'
    else:
        fate = 'closed' if fin_by else ('reset' if rst_by else 'no-keepalive')
    probe_seqs = [sg['seq'] for sg in segs if sg['ka']]
    # independent of tshark's state: an empty plain ACK whose seq is one below the ack
    # number the other side last sent (works without the handshake and on truncated frames)
    by_ack = {'client': 0, 'server': 0}
    last_ack = {}
    for sg in segs:
        other = 'server' if sg['side'] == 'client' else 'client'
        if (sg['len'] == 0 and not (sg['syn'] or sg['fin'] or sg['rst'])
                and other in last_ack and sg['seq'] == (last_ack[other] - 1) % 2 ** 32):
            by_ack[sg['side']] += 1
        last_ack[sg['side']] = sg['ack']
    return {
        'segments': len(segs),
        'synSeen': any(sg['syn'] for sg in segs),
        'probes': probes, 'probesAnswered': answered,
        'rstBy': rst_by, 'finBy': fin_by, 'fate': fate,
        '_probeSeqs': probe_seqs, '_probesByAck': by_ack,
        '_seqs': [(sg['side'], sg['seq'], sg['len']) for sg in segs],
        '_segs': segs,
    }


def tshark_payloads(src, maxlen=64):
    """frame number -> TCP payload (hex) of the small data segments of one capture file."""
    cmd = ['tshark', '-n', '-r', src, '-Y', f'tcp.len > 0 && tcp.len <= {maxlen}', '-T', 'fields',
           '-e', 'frame.number', '-e', 'tcp.payload']
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = {}
    for ln in out.splitlines():
        f, _, pay = ln.partition('\t')
        res[int(f)] = pay.replace(':', '').lower()
    return res


def data_segs(segs, side):
    return [sg for sg in segs if sg['side'] == side and sg['len'] > 0 and not sg['syn']]


def longest_silence(segs):
    """(gap seconds, time it began) of the longest pause between two segments."""
    best = (0.0, None)
    for a, b in zip(segs, segs[1:]):
        if b['t'] - a['t'] > best[0]:
            best = (b['t'] - a['t'], a['t'])
    return best


def measure_heartbeat(segs, hb):
    """What the capture shows of a configured heartbeat: beats, their spacing, the replies."""
    frm = hb['from']
    other = 'server' if frm == 'client' else 'client'
    beats = [sg for sg in data_segs(segs, frm) if sg['len'] == hb['requestBytes']]
    gaps = [b['t'] - a['t'] for a, b in zip(beats, beats[1:])]
    m = {'beats': len(beats)}
    if gaps:
        mean = sum(gaps) / len(gaps)
        sd = (sum((g - mean) ** 2 for g in gaps) / len(gaps)) ** 0.5
        m['gaps'] = {'mean': round(mean, 6), 'min': round(min(gaps), 6), 'max': round(max(gaps), 6),
                     'sd': round(sd, 6),
                     'maxDeviation': round(max(abs(g - hb['period']) for g in gaps), 6)}
    replies = []
    theirs = data_segs(segs, other)
    for i, b in enumerate(beats):
        nxt = beats[i + 1]['t'] if i + 1 < len(beats) else float('inf')
        r = next((x for x in theirs if b['t'] <= x['t'] < nxt), None)
        replies.append(r)
    if hb.get('replyBytes') is not None:
        delays = [r['t'] - b['t'] for b, r in zip(beats, replies) if r is not None]
        m['replies'] = len(delays)
        if delays:
            m['replyDelay'] = {'min': round(min(delays), 6), 'max': round(max(delays), 6)}
    m['_beats'], m['_replies'], m['_theirs'] = beats, replies, theirs
    return m


def check_heartbeat(hb, v, obs, payloads):
    errs = []
    segs = obs['_segs']
    m = measure_heartbeat(segs, hb)
    frm = hb['from']
    other = 'server' if frm == 'client' else 'client'
    stray = [sg['frame'] for sg in data_segs(segs, frm) if sg['len'] != hb['requestBytes']]
    if stray:
        errs.append(f'{frm} data segments that are not {hb["requestBytes"]}-byte beats: frames {stray[:5]}')
    if m['beats'] < v.get('minBeats', 1):
        errs.append(f"{m['beats']} beats, want >= {v.get('minBeats')}")
    tol = v.get('tolerance', 0.05)
    if 'gaps' in m and m['gaps']['maxDeviation'] > tol:
        errs.append(f"beat gaps {m['gaps']['min']}..{m['gaps']['max']} s, period {hb['period']} +- {tol}")
    for sg in m['_beats']:
        if v.get('requestHex') and payloads.get(sg['frame']) != v['requestHex'].lower():
            errs.append(f"beat frame {sg['frame']}: payload {payloads.get(sg['frame'])}, want {v['requestHex']}")
    if hb.get('replyBytes') is None:
        if m['_theirs']:
            errs.append(f"{other} sent data (frames {[x['frame'] for x in m['_theirs']][:5]}), want none")
    else:
        within = v.get('replyWithin', 0.05)
        for b, r in zip(m['_beats'], m['_replies']):
            if r is None or r['t'] - b['t'] > within or r['len'] != hb['replyBytes']:
                errs.append(f"beat frame {b['frame']}: no {hb['replyBytes']}-byte reply within {within} s")
            elif v.get('replyHex') and payloads.get(r['frame']) != v['replyHex'].lower():
                errs.append(f"reply frame {r['frame']}: payload {payloads.get(r['frame'])}, want {v['replyHex']}")
        extra = [x['frame'] for x in m['_theirs'] if x['len'] != hb['replyBytes']]
        if extra:
            errs.append(f'{other} data segments that are not replies: frames {extra[:5]}')
    return errs


def check(conn, obs, payloads=None, t0=None):
    v = conn.get('verify', {})
    errs = []
    if 'maxSynLag' in v:
        syn = next((sg for sg in obs['_segs'] if sg['syn']), None)
        if syn is None or syn['epoch'] - t0 > v['maxSynLag']:
            lag = None if syn is None else round(syn['epoch'] - t0, 3)
            errs.append(f"SYN {lag} s after t0, want <= {v['maxSynLag']} (the client started late)")
    for side, n in v.get('maxProbesByAck', {}).items():
        if obs['_probesByAck'][side] > n:
            errs.append(f"maxProbesByAck {side}: saw {obs['_probesByAck'][side]}, want <= {n}")
    for side, n in v.get('bytes', {}).items():
        got = sum(sg['len'] for sg in data_segs(obs['_segs'], side))
        if got != n:
            errs.append(f'{side} sent {got} payload bytes, want {n}')
    if 'minSilence' in v and longest_silence(obs['_segs'])[0] < v['minSilence']:
        errs.append(f"longest silence {longest_silence(obs['_segs'])[0]:.3f} s, want >= {v['minSilence']}")
    if 'heartbeat' in v:
        if not conn.get('heartbeat'):
            errs.append('verify.heartbeat without a configured heartbeat')
        else:
            errs += check_heartbeat(conn['heartbeat'], v['heartbeat'], obs, payloads or {})
    want = v.get('tsharkFate', conn['fate'])
    if obs['fate'] != want:
        errs.append(f"fate from tshark view is {obs['fate']}, wanted {want}")
    for key, cmp in (('minProbes', lambda a, b: a >= b), ('maxProbes', lambda a, b: a <= b)):
        for side, n in v.get(key, {}).items():
            if not cmp(obs['probes'][side], n):
                errs.append(f"{key} {side}: saw {obs['probes'][side]}, want {n}")
    for side, n in v.get('minProbesByAck', {}).items():
        if obs['_probesByAck'][side] < n:
            errs.append(f"minProbesByAck {side}: saw {obs['_probesByAck'][side]}, want {n}")
    if 'syn' in v and obs['synSeen'] != v['syn']:
        errs.append(f"SYN seen={obs['synSeen']}, wanted {v['syn']}")
    if v.get('seqWrap'):
        cl = [(s, n) for side, s, n in obs['_seqs'] if side == 'client']
        wrapped = any(s + n >= 2 ** 32 for s, n in cl) or any(
            cl[i + 1][0] < cl[i][0] - 2 ** 31 for i in range(len(cl) - 1))
        if not wrapped:
            errs.append('no client sequence wrap seen')
    if 'probeSeq' in v and v['probeSeq'] not in obs['_probeSeqs']:
        errs.append(f"no probe with seq {v['probeSeq']} (saw {obs['_probeSeqs'][:5]})")
    return errs


# ---------------------------------------------------------------- finalize
def fill_times(text, offset):
    def one(m):
        v = float(m.group(1)) + offset
        return f'{0.0 if abs(v) < 0.005 else v:.2f} s'
    return re.sub(r'@\{([-0-9.]+)\}', one, text)


def finalize(meta_path, fixdir):
    with open(meta_path) as f:
        meta = json.load(f)
    cap = meta['capture']
    paths = [os.path.join(fixdir, fn) for fn in cap['files']]
    infos = [inspect(p) for p in paths]
    first = min(i['firstTs'] for i in infos if i['firstTs'] is not None)
    offset = float(meta['t0']) - first
    link_types = []
    for i in infos:
        for lt in i['linkTypes']:
            if lt not in link_types:
                link_types.append(lt)
    tsv_src = [os.path.join(fixdir, fn) for fn in meta.get('tsharkFiles', cap['files'])]
    rows, tsv = tshark_rows(tsv_src)
    payloads = None
    if any('heartbeat' in c.get('verify', {}) for c in meta['connections']):
        payloads = tshark_payloads(tsv_src[0])
    failures = []
    conns_out = []
    for c in meta['connections']:
        obs = observe(rows, c['client'], c['server'])
        errs = check(c, obs, payloads, float(meta['t0']))
        if errs:
            failures.append(f"{c['client']} -> {c['server']}: " + '; '.join(errs))
        out = {'client': c['client'], 'server': c['server'], 'keepalive': c['keepalive']}
        if 'heartbeat' in c:
            out['heartbeat'] = c['heartbeat']
        out.update({'fate': c['fate'], 'events': fill_times(c.get('events', ''), offset),
                    'observed': {k: obs[k] for k in ('synSeen', 'probes', 'probesAnswered',
                                                      'rstBy', 'finBy', 'fate')}})
        out['observed']['probesByAckRule'] = obs['_probesByAck']
        note = ('synSeen..fate: as tshark 4.0 flags it (tcp.analysis.keep_alive); '
                'probesByAckRule: empty plain ACKs with seq = (last ack from the '
                'other side) - 1, which also counts zero-window probes')
        if 'heartbeat' in c:
            gap, since = longest_silence(obs['_segs'])
            out['observed']['longestSilence'] = {'seconds': round(gap, 6),
                                                 'from': None if since is None else round(since, 6)}
            note += '; longestSilence: the longest pause between two segments (seconds, and when it began)'
            if c['heartbeat']:
                m = measure_heartbeat(obs['_segs'], c['heartbeat'])
                out['observed']['heartbeat'] = {k: m[k] for k in m if not k.startswith('_')}
                note += ('; heartbeat: data segments of requestBytes from the beating side as seen '
                         'in the capture (gaps between them, and the delay of the first data from '
                         'the other side after each)')
        out['observed']['note'] = note
        conns_out.append(out)
    truth = {
        'scenario': meta['scenario'],
        'recordedBy': meta['recordedBy'],
        'kernel': os.uname().release,
        'summary': meta.get('summary', ''),
        'capture': {
            'tool': cap['tool'], 'command': cap['command'], 'linkTypes': link_types,
            'files': cap['files'],
            'packets': [i['packets'] for i in infos],
            'format': [i['format'] for i in infos],
            'tsresol': [i['tsresol'] for i in infos],
        },
        'notes': fill_times(meta.get('notes', ''), offset)
        + ' Event times are seconds after the first frame of the capture (Wireshark frame.time_relative).',
        'connections': conns_out,
    }
    if cap.get('copies'):
        truth['capture']['copies'] = cap['copies']
    if failures:
        sys.stderr.write(f"[truth] {meta['scenario']}: capture does not match:\n  " + '\n  '.join(failures) + '\n')
        return 1
    with open(os.path.join(fixdir, meta['scenario'] + '.truth.json'), 'w') as f:
        json.dump(truth, f, indent=2)
        f.write('\n')
    with open(os.path.join(fixdir, meta['scenario'] + '.tshark.tsv'), 'w') as f:
        f.write(tsv)
    for c in conns_out:
        o = c['observed']
        print(f"[truth] {meta['scenario']}: {c['client']} -> {c['server']} fate={c['fate']} "
              f"probes={o['probes']} answered={o['probesAnswered']} rst={o['rstBy']} fin={o['finBy']}")
    return 0


LINKTYPE_NAMES = {1: 'Ethernet (1)', 101: 'raw IP (101)', 113: 'Linux SLL (113)',
                  276: 'Linux SLL2 (276)'}


def table(fixdir):
    """Markdown table of every truth file in FIXDIR (for fixtures/README.md)."""
    print('| files | link type | packets | recorded with | what it shows | connections: fates |')
    print('|---|---|---|---|---|---|')
    for fn in sorted(os.listdir(fixdir)):
        if not fn.endswith('.truth.json'):
            continue
        with open(os.path.join(fixdir, fn)) as f:
            t = json.load(f)
        cap = t['capture']
        files = cap['files'] + cap.get('copies', [])
        cmd = cap['command'].replace('ip netns exec kafx-a ', '')
        cmd = re.sub(r' -Z root -U --immediate-mode -n', '', cmd)
        if len(cmd) > 90:
            cmd = cmd[:87] + '...'
        fates = {}
        for c in t['connections']:
            fates[c['fate']] = fates.get(c['fate'], 0) + 1
        print('| {} | {} | {} | `{}` | {} | {} |'.format(
            '<br>'.join(f'`{x}`' for x in files),
            ', '.join(LINKTYPE_NAMES.get(x, str(x)) for x in cap['linkTypes']),
            ' + '.join(str(x) for x in cap['packets']),
            cmd.replace('|', '\\|'),
            t.get('summary', '').replace('|', '\\|'),
            ', '.join(f'{v} {k}' for k, v in fates.items())))


BEGIN, END = '<!-- fixtures-table:begin -->', '<!-- fixtures-table:end -->'


def readme(path, fixdir):
    """Regenerate the table between the markers in fixtures/README.md."""
    import contextlib
    import io
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        return
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        table(fixdir)
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, 'w') as f:
        f.write(head + BEGIN + '\n' + buf.getvalue() + END + tail)


def main():
    cmd = sys.argv[1]
    if cmd == 'finalize':
        sys.exit(finalize(sys.argv[2], sys.argv[3]))
    elif cmd == 'info':
        for p in sys.argv[2:]:
            i = inspect(p)
            print(p, json.dumps(i))
    elif cmd == 'table':
        table(sys.argv[2])
    elif cmd == 'readme':
        readme(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main()
