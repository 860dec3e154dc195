#!/usr/bin/env python3
"""Plan the ka-many scenario: N concurrent connections with random keepalive settings
and random fates, reproducible from a seed.

usage: plan_many.py SEED T0 OUTDIR [N] [END]
writes OUTDIR/server.json, OUTDIR/client.json (peer.py specs),
       OUTDIR/timeline.tsv (REL<TAB>ip arguments, to run as `ip -n <server ns> ARGS`),
       OUTDIR/conns.json (truth connections, with verify hints),
       OUTDIR/setup.tsv (ip arguments to run in the server namespace before T0)

Connection i: client 10.77.0.1:(42000+i) -> server 10.77.0.(10+i):(9200+i); every
server has its own address, so one server's replies can be blackholed alone with a
source-address policy rule in the server namespace:
    ip rule add from 10.77.0.(10+i) lookup 100      (table 100: blackhole 10.77.0.1/32)
Fates:
  alive         keepalive on, probes answered until the capture ends
  alive-close   same, then the client closes normally between two probes (fate alive)
  dead          server replies blackholed (rule never removed): count unanswered
                probes, then the client's RST
  reset         server replies blackholed, server socket aborted (SO_LINGER 0: its RST
                is dropped), rule removed; the next probe is answered by RST
  undetermined  blackholed late (count 4, interval 2): the capture ends while probes
                are still unanswered
  closed        keepalive on with idle 3 s but the client closes after 1.5 s
  no-keepalive  keepalive off, connection open at the end
"""
import json
import os
import random
import sys

SLOW = 1.03  # keepalive timers fire up to ~3 % late (jiffies / timer-wheel slack)


def main():
    seed, t0, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 24
    end = float(sys.argv[5]) if len(sys.argv) > 5 else 20.0
    rng = random.Random(seed)
    pool = (['alive'] * 6 + ['alive-close'] * 3 + ['dead'] * 4 + ['reset'] * 4 +
            ['undetermined'] * 2 + ['closed'] * 2 + ['no-keepalive'] * 3)
    while len(pool) < n:
        pool.append(rng.choice(['alive', 'dead', 'reset']))
    pool = pool[:n]
    rng.shuffle(pool)
    listeners, clients, timeline, conns, setup = [], [], [], [], []
    setup.append('route add blackhole 10.77.0.1/32 table 100')
    for i, kind in enumerate(pool):
        srv_ip = f'10.77.0.{10 + i}'
        setup.append(f'addr add {srv_ip}/24 dev veth-b')
        cport, sport = 42000 + i, 9200 + i
        start = round(rng.uniform(0.0, 1.0), 3)
        idle = rng.choice([1, 2, 3])
        intvl = rng.choice([1, 2])
        cnt = rng.choice([2, 3, 4])
        if kind == 'undetermined':
            intvl, cnt = 2, 4
        if kind == 'closed':
            idle = 3
        ka = None if kind == 'no-keepalive' else {'idle': idle, 'interval': intvl, 'count': cnt}
        nbytes = 64 + i
        base = start + 0.06  # echo of the first data arrives ~immediately
        # Linux: the first probe comes idle after the last segment received; after a
        # probe the timer is re-armed for interval, and then (if the probe was answered)
        # for the rest of idle: answered probes are max(idle, interval) apart.
        period = max(idle, intvl)

        def probe(k):  # approximate time of the k-th answered probe (k >= 1)
            return base + (idle + (k - 1) * period) * SLOW

        def after(k):  # a quiet moment between probe k and probe k+1
            return round(probe(k) + period / 2, 3)
        cl_actions = [{'t': round(start + 0.05, 3), 'do': 'send', 'bytes': nbytes}]
        sv_actions = []
        verify = {}
        fate = kind
        events = f'client connected at @{{{start}}}, sent {nbytes} B, server echoed'
        if ka and kind != 'closed':
            events += f'; answered probes come every max(idle, interval) = {period} s'
        if kind == 'alive':
            events += '; probes answered until the capture ended (connection still open)'
            verify['minProbes'] = {'client': 1}
        elif kind == 'alive-close':
            fate = 'alive'
            tc = after(2)
            cl_actions.append({'t': tc, 'do': 'close'})
            events += f'; 2 probes answered; client closed normally (FIN) at @{{{tc}}}'
            verify['minProbes'] = {'client': 2}
        elif kind == 'dead':
            tb = after(1)
            timeline.append((tb, f'rule add from {srv_ip} lookup 100 pref {1000 + i}'))
            events += (f'; 1 probe answered; server replies blackholed at @{{{tb}}} '
                       f'(never restored): {cnt} unanswered probes {intvl} s apart, then client RST')
            verify['minProbes'] = {'client': cnt + 1}
        elif kind == 'reset':
            tr = after(1)
            timeline.append((round(tr - 0.15, 3), f'rule add from {srv_ip} lookup 100 pref {1000 + i}'))
            sv_actions.append({'t': tr, 'do': 'abort'})
            timeline.append((round(tr + 0.25, 3), f'rule del from {srv_ip} lookup 100 pref {1000 + i}'))
            events += (f'; 1 probe answered; server socket aborted at @{{{tr}}} with its RST '
                       f'blackholed (@{{{round(tr - 0.15, 3)}}}..@{{{round(tr + 0.25, 3)}}}); '
                       f'next probe answered by RST')
            verify['minProbes'] = {'client': 2}
        elif kind == 'undetermined':
            tb = round(end - 6.5, 3)
            timeline.append((tb, f'rule add from {srv_ip} lookup 100 pref {1000 + i}'))
            events += (f'; probes answered until server replies were blackholed at @{{{tb}}}; '
                       f'capture ended during the unanswered probes (RST would come >= 8 s later)')
            verify['minProbes'] = {'client': 2}
        elif kind == 'closed':
            tc = round(base + 1.5, 3)
            cl_actions.append({'t': tc, 'do': 'close'})
            events += f'; client closed normally at @{{{tc}}}, before the first probe was due'
            verify['maxProbes'] = {'client': 0}
        elif kind == 'no-keepalive':
            events += '; keepalive off; idle and still open when the capture ended'
            verify['maxProbes'] = {'client': 0}
        listeners.append({'addr': srv_ip, 'port': sport, 'echo': True, 'actions': sv_actions})
        clients.append({'id': f'c{i}', 'bind': f'10.77.0.1:{cport}', 'connect': f'{srv_ip}:{sport}',
                        'start': start, 'keepalive': ka, 'actions': cl_actions})
        conns.append({'client': f'10.77.0.1:{cport}', 'server': f'{srv_ip}:{sport}',
                      'keepalive': {'client': ka, 'server': None}, 'fate': fate,
                      'events': events, 'verify': verify, 'plan': kind})
    timeline.sort()
    with open(os.path.join(out, 'server.json'), 'w') as f:
        json.dump({'t0': t0, 'end': end + 3, 'listeners': listeners}, f, indent=1)
    with open(os.path.join(out, 'client.json'), 'w') as f:
        json.dump({'t0': t0, 'end': end + 3, 'connections': clients}, f, indent=1)
    with open(os.path.join(out, 'timeline.tsv'), 'w') as f:
        for t, cmd in timeline:
            f.write(f'{t}\t{cmd}\n')
    with open(os.path.join(out, 'setup.tsv'), 'w') as f:
        f.write('\n'.join(setup) + '\n')
    with open(os.path.join(out, 'conns.json'), 'w') as f:
        json.dump(conns, f, indent=1)


if __name__ == '__main__':
    main()
