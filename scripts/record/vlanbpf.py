#!/usr/bin/env python3
"""Load tiny tc (SCHED_CLS) eBPF programs that push or pop 802.1Q / 802.1ad tags
and pin them in a bpffs directory, for `tc filter ... bpf da object-pinned PATH`.

The recording kernel has no 8021q module (CONFIG_VLAN_8021Q unset) and no act_vlan,
so a VLAN sub-interface cannot be made; the kernel's own bpf_skb_vlan_push /
bpf_skb_vlan_pop helpers tag frames on the veth instead.  Frames on the veth then
really carry the tags (in skb metadata, which libpcap re-inserts into the captured
frame exactly like for a hardware-accelerated VLAN NIC).

usage: vlanbpf.py PINDIR push NAME TPID:VID [TPID:VID ...]   (innermost first)
       vlanbpf.py PINDIR pop NAME COUNT
"""
import ctypes, os, struct, sys

SYS_bpf = 321  # x86_64
BPF_PROG_LOAD, BPF_OBJ_PIN = 5, 6
BPF_PROG_TYPE_SCHED_CLS = 3
FN_VLAN_PUSH, FN_VLAN_POP = 18, 19

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack('<BBhi', code, (src << 4) | dst, off, imm)


MOV64_X, MOV64_K, CALL, EXIT = 0xbf, 0xb7, 0x85, 0x95


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(SYS_bpf, cmd, buf, 128)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def load(prog, name):
    code = b''.join(prog)
    cbuf = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(b'GPL')
    log = ctypes.create_string_buffer(65536)
    attr = struct.pack('<IIQQIIQII16sII', BPF_PROG_TYPE_SCHED_CLS, len(prog),
                       ctypes.addressof(cbuf), ctypes.addressof(lic), 1, len(log),
                       ctypes.addressof(log), 0, 0, name.encode()[:15], 0, 0)
    try:
        return bpf(BPF_PROG_LOAD, attr)
    except OSError:
        sys.stderr.write(log.value.decode(errors='replace'))
        raise


def main():
    pindir, op, name = sys.argv[1:4]
    prog = [insn(MOV64_X, 6, 1)]  # r6 = skb
    if op == 'push':
        for spec in sys.argv[4:]:
            tpid, vid = spec.split(':')
            tpid = int(tpid, 16)
            be = ((tpid & 0xff) << 8) | (tpid >> 8)  # __be16 on little-endian
            prog += [insn(MOV64_X, 1, 6), insn(MOV64_K, 2, imm=be),
                     insn(MOV64_K, 3, imm=int(vid)), insn(CALL, imm=FN_VLAN_PUSH)]
    elif op == 'pop':
        for _ in range(int(sys.argv[4])):
            prog += [insn(MOV64_X, 1, 6), insn(CALL, imm=FN_VLAN_POP)]
    else:
        raise SystemExit('bad op')
    prog += [insn(MOV64_K, 0, imm=0), insn(EXIT)]  # TC_ACT_OK
    fd = load(prog, name)
    path = ctypes.create_string_buffer(os.path.join(pindir, name).encode())
    bpf(BPF_OBJ_PIN, struct.pack('<QII', ctypes.addressof(path), fd, 0))
    os.close(fd)


if __name__ == '__main__':
    main()
