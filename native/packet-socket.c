// AF_PACKET sockets: send-only for gratuitous ARP / unsolicited NA, and listeners for the ARP
// and NA frames that answer a duplicate address probe. Policy lives in TypeScript; this file
// only opens, sends, receives and closes. System errors are thrown like Node's own: an Error
// with `errno` (positive) and `syscall`; the TypeScript side adds the symbolic `code`.
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void throw_errno(napi_env env, const char *syscall, int err) {
  char buf[128];
  napi_value msg, error, num, name;
  snprintf(buf, sizeof buf, "%s: %s", syscall, strerror(err));
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_create_int32(env, err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &name);
  napi_set_named_property(env, error, "syscall", name);
  napi_throw(env, error);
}

static int get_int(napi_env env, napi_value v, int32_t *out, const char *what) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", what);
    return 0;
  }
  return 1;
}

// open(ifindex) -> fd. Protocol 0: the socket never receives, so nothing queues on it.
static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t ifindex;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !get_int(env, argv[0], &ifindex, "ifindex must be an integer")) return NULL;

  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return NULL;
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "bind", err);
    return NULL;
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

// send(fd, ifindex, ethertype, dstMac, frame) -> bytes sent. frame is a whole Ethernet frame;
// dstMac/ethertype fill sockaddr_ll so the kernel sees the same destination as the header.
static napi_value send_frame(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t fd, ifindex, ethertype;
  void *dst, *frame;
  size_t dst_len, frame_len;
  bool is_buf;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, "EINVAL", "send(fd, ifindex, ethertype, dstMac, frame)");
    return NULL;
  }
  if (!get_int(env, argv[0], &fd, "fd must be an integer") ||
      !get_int(env, argv[1], &ifindex, "ifindex must be an integer") ||
      !get_int(env, argv[2], &ethertype, "ethertype must be an integer")) {
    return NULL;
  }
  napi_is_buffer(env, argv[3], &is_buf);
  if (!is_buf || napi_get_buffer_info(env, argv[3], &dst, &dst_len) != napi_ok || dst_len != 6) {
    napi_throw_type_error(env, "EINVAL", "dstMac must be a 6-byte Buffer");
    return NULL;
  }
  napi_is_buffer(env, argv[4], &is_buf);
  if (!is_buf || napi_get_buffer_info(env, argv[4], &frame, &frame_len) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "frame must be a Buffer");
    return NULL;
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons((uint16_t)ethertype);
  sll.sll_ifindex = ifindex;
  sll.sll_halen = 6;
  memcpy(sll.sll_addr, dst, 6);
  ssize_t n = sendto(fd, frame, frame_len, 0, (struct sockaddr *)&sll, sizeof sll);
  if (n < 0) {
    throw_errno(env, "sendto", errno);
    return NULL;
  }
  napi_value result;
  napi_create_int32(env, (int32_t)n, &result);
  return result;
}

// listen(ifindex, family) -> fd. Family 4: every ARP frame on the link. Family 6: only ICMPv6
// neighbour advertisements (a classic BPF filter in the kernel, so a busy link queues nothing
// else). The socket is bound to its protocol only after the filter is attached.
static napi_value listen_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t ifindex, family;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !get_int(env, argv[0], &ifindex, "ifindex must be an integer") ||
      !get_int(env, argv[1], &family, "family must be an integer")) {
    return NULL;
  }
  if (family != 4 && family != 6) {
    napi_throw_type_error(env, "EINVAL", "family must be 4 or 6");
    return NULL;
  }
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return NULL;
  }
  if (family == 6) {
    // ethertype IPv6, next header ICMPv6 (58), ICMPv6 type 136: no extension headers in ND
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 5),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 3),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 54),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog prog = {sizeof code / sizeof code[0], code};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
      int err = errno;
      close(fd);
      throw_errno(env, "setsockopt", err);
      return NULL;
    }
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(family == 4 ? ETH_P_ARP : ETH_P_IPV6);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "bind", err);
    return NULL;
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

// receive(fd, buffer) -> bytes of the next frame that arrived on the link (frames this host sent
// are skipped), or 0 when none is queued. Never blocks.
static napi_value receive_frame(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  void *buf;
  size_t buf_len;
  bool is_buf;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !get_int(env, argv[0], &fd, "fd must be an integer")) return NULL;
  napi_is_buffer(env, argv[1], &is_buf);
  if (!is_buf || napi_get_buffer_info(env, argv[1], &buf, &buf_len) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "buffer must be a Buffer");
    return NULL;
  }
  for (;;) {
    struct sockaddr_ll from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(fd, buf, buf_len, 0, (struct sockaddr *)&from, &from_len);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) n = 0;
      else if (errno == EINTR) continue;
      else {
        throw_errno(env, "recvfrom", errno);
        return NULL;
      }
    } else if (from.sll_pkttype == PACKET_OUTGOING) {
      continue;
    }
    napi_value result;
    napi_create_int32(env, (int32_t)n, &result);
    return result;
  }
}

static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !get_int(env, argv[0], &fd, "fd must be an integer")) return NULL;
  if (close(fd) < 0) throw_errno(env, "close", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, open_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, send_frame, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"listen", NULL, listen_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"receive", NULL, receive_frame, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
