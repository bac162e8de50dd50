{
  "targets": [
    {
      "target_name": "packet_socket",
      "sources": ["packet-socket.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
