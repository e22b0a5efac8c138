/*
 * race-probe: the dev guest's attack on the host's API (tests of the
 * manager's connection guard). For each try it connects to HOST:PORT, writes a
 * whole request in one write — a gRPC CreateVm (HTTP/2 preface, SETTINGS,
 * HEADERS, DATA) or an HTTP/1.1 POST /vms — waits 0..10 ms (try % 11) and
 * resets the connection (SO_LINGER 0), so the host holds the request bytes
 * while the guest's end is already gone. Prints one summary line.
 *
 *   race-probe grpc|http HOST PORT TRIES
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static size_t frame(unsigned char *out, size_t len, unsigned type, unsigned flags, unsigned stream) {
  out[0] = (len >> 16) & 0xff; out[1] = (len >> 8) & 0xff; out[2] = len & 0xff;
  out[3] = type; out[4] = flags;
  out[5] = (stream >> 24) & 0x7f; out[6] = (stream >> 16) & 0xff; out[7] = (stream >> 8) & 0xff; out[8] = stream & 0xff;
  return 9;
}

/* HPACK "literal header field without indexing, new name", no Huffman (names and values < 127 bytes). */
static size_t header(unsigned char *out, const char *name, const char *value) {
  size_t n = strlen(name), v = strlen(value), at = 0;
  out[at++] = 0x00;
  out[at++] = (unsigned char)n; memcpy(out + at, name, n); at += n;
  out[at++] = (unsigned char)v; memcpy(out + at, value, v); at += v;
  return at;
}

static size_t grpc_request(unsigned char *buf, const char *authority) {
  static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  size_t at = 0, start, len;
  memcpy(buf, preface, 24); at = 24;
  at += frame(buf + at, 0, 4, 0, 0); /* SETTINGS, empty */
  start = at; at += 9;
  len = header(buf + at, ":method", "POST");
  len += header(buf + at + len, ":scheme", "http");
  len += header(buf + at + len, ":path", "/manager.ManagerService/CreateVm");
  len += header(buf + at + len, ":authority", authority);
  len += header(buf + at + len, "content-type", "application/grpc");
  len += header(buf + at + len, "te", "trailers");
  frame(buf + start, len, 1, 0x4, 1); /* HEADERS, END_HEADERS */
  at += len;
  /* An empty CreateReq: a valid create with every default. */
  at += frame(buf + at, 5, 0, 0x1, 1); /* DATA, END_STREAM */
  memset(buf + at, 0, 5); at += 5;
  return at;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: race-probe grpc|http HOST PORT TRIES\n"); return 2; }
  const char *mode = argv[1], *host = argv[2];
  int port = atoi(argv[3]), tries = atoi(argv[4]), sent = 0, failed = 0;
  unsigned char buf[1024];
  char authority[64];
  size_t len;
  snprintf(authority, sizeof authority, "127.0.0.1:%d", port);
  if (strcmp(mode, "grpc") == 0) len = grpc_request(buf, authority);
  else len = (size_t)snprintf((char *)buf, sizeof buf,
                "POST /vms HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", authority);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, host, &addr.sin_addr);
  for (int i = 0; i < tries; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || write(fd, buf, len) != (ssize_t)len) {
      failed++;
      if (fd >= 0) close(fd);
      continue;
    }
    sent++;
    struct timespec pause = { 0, (long)(i % 11) * 1000000L };
    nanosleep(&pause, NULL);
    struct linger reset = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(fd);
  }
  printf("sent %d failed %d\n", sent, failed);
  return 0;
}
