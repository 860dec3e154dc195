"""A client and a server in one process, on 127.0.0.1, for `keepalive run`'s tests.

    keepalive_pair.py MODE SECONDS [PORT]

MODE says what the client socket does about keepalive:
  own     SO_KEEPALIVE with its own TCP_KEEPIDLE 1, TCP_KEEPINTVL 1, TCP_KEEPCNT 3
  system  SO_KEEPALIVE only: the kernel's net.ipv4.tcp_keepalive_* apply
  none    no keepalive at all
The client sends 5 bytes, the server echoes them, then the connection stays idle for SECONDS
and the client closes it. PORT 0 (default) picks a free one. Prints one line when connected
and one when done, on standard output.
"""
import socket
import sys
import time

mode = sys.argv[1]
seconds = float(sys.argv[2])
port = int(sys.argv[3]) if len(sys.argv) > 3 else 0

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', port))
server.listen(1)

client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
if mode in ('own', 'system'):
    client.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
if mode == 'own':
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
elif mode != 'system' and mode != 'none':
    sys.exit('unknown mode ' + mode)
client.connect(server.getsockname())
conn, _ = server.accept()
print('connected %s:%d' % client.getsockname(), flush=True)
client.sendall(b'hello')
conn.sendall(conn.recv(5))
client.recv(5)
time.sleep(seconds)
client.close()
conn.close()
server.close()
print('done', flush=True)
