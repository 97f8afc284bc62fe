"""Opens N keep-alive connections to a local perksu server, each after one GET /healthz, and
holds them until standard input closes: for reading the server's memory per connection."""
import http.client
import sys

count = min(int(sys.argv[1]), 1000)
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8080
connections = []
for _ in range(count):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/healthz")
    connection.getresponse().read()
    connections.append(connection)
sys.stdin.read()
