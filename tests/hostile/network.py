"""Tries: reach the grader's machine (a TCP listener on the host's 127.0.0.1) and the Internet.

Expect: the host's listener is not reachable (the sandbox has its own, empty loopback) and any
other address fails at once with "Network is unreachable".
Safety: no packet may leave even if the sandbox fails. The route test is a UDP connect(), which
sends nothing; a TCP connect to a non-loopback address is tried only when the kernel sees no
interface but `lo` (so it cannot send either). 192.0.2.1 is TEST-NET-1 (documentation only).
"""

import json
import socket
import time

PARAMS = globals().get("PARAMS", {})
result = {"interfaces": [name for _, name in socket.if_nameindex()]}
start = time.monotonic()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    udp.connect(("192.0.2.1", 9))
    result["udp_route"] = "route exists"
except OSError as err:
    result["udp_route"] = err.strerror
finally:
    udp.close()
if result["interfaces"] == ["lo"] and result["udp_route"] == "Network is unreachable":
    tcp = socket.socket()
    tcp.settimeout(2)
    try:
        tcp.connect(("192.0.2.1", 80))
        result["tcp_public"] = "connected"
    except OSError as err:
        result["tcp_public"] = err.strerror or type(err).__name__
    finally:
        tcp.close()
else:
    result["tcp_public"] = "guard: not tried, the kernel may have a real network"
local = socket.socket()
local.settimeout(2)
try:
    local.connect(("127.0.0.1", PARAMS.get("host_port", 9)))
    result["host_loopback"] = "connected"
except OSError as err:
    result["host_loopback"] = err.strerror or type(err).__name__
finally:
    local.close()
result["seconds"] = round(time.monotonic() - start, 3)
print("RESULT " + json.dumps(result))
