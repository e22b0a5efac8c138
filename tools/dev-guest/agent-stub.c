/*
 * agent-stub: the dev guest's stand-in for the Cocos agent on the seeds/002
 * agent channel over virtio-serial (packages/agent-channel, MANAGER_AGENT_CHANNEL=virtio-serial).
 *
 * - Events port (name cocos.events, guest -> host): frames
 *   `u32 LE id | u32 LE length | payload` (payload at most 1 MiB), each
 *   acknowledged by the host with its `u32 LE` id. The payload is a protobuf
 *   EventsLogs { oneof message { AgentLog agent_log = 1; AgentEvent agent_event = 2; } }
 *   (packages/contract/proto/cm-stream.proto), encoded by hand below.
 * - Manifest port (name cocos.manifest, host -> guest): the computation
 *   manifest (JSON), written once; the host ends its connection after it.
 *
 * At start it sends one AgentEvent (agent-start, ready) and one AgentLog, each
 * sent again until acknowledged. With cocos.agentattack=<kinds> on the kernel
 * command line (malformed, oversized, flood, comma-separated, or all) it then
 * attacks the host's end in that order and sends one good event after
 * (agent-attack, done). Meanwhile a child process takes manifests: it
 * publishes the "id" of each on the agent page (MANIFEST_ID=<id> appended to
 * /www/index.html) and passes it on through a pipe; once done with the
 * above, the parent reports each with an AgentEvent (computation-received,
 * received) and an AgentLog. What it does goes to stdout (the serial
 * console), one "dev-guest: agent ..." line per step.
 *
 * Linux virtio_console, which all of this leans on: a write blocks (here
 * EAGAIN: the ports are opened O_NONBLOCK) while the host end is not
 * connected, and poll() reports POLLHUP then; a read returns 0 when there is
 * no data and the host end is not connected. QEMU drops what the guest wrote
 * and the host had not read when the host end closes, and one write of at
 * most 32 KiB is one buffer, passed on whole or dropped whole: a frame
 * written in one write() never arrives half on a new connection.
 *
 *   agent-stub            (no arguments; started by /init when the events port exists)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_PORT "cocos.events"
#define MANIFEST_PORT "cocos.manifest"
#define AGENT_PAGE "/www/index.html"

/* The protocol's bound on a frame payload (the host's MAX_FRAME_PAYLOAD). */
#define MAX_FRAME_PAYLOAD (1u << 20)
/* The largest manifest taken; a longer one is read to its end and refused. */
#define MAX_MANIFEST (1u << 20)
/* The host's bound on a computation id (AGENT_FIELD_LIMITS.computation_id). */
#define MAX_ID 128
/* The virtio_console driver takes at most this much per write(). */
#define MAX_WRITE (32u * 1024)
/* Our own frames: at most one write each. */
#define FRAME_CAP MAX_WRITE
#define PAYLOAD_CAP (FRAME_CAP - 8)

#define ACK_TIMEOUT_MS 10000
#define MAX_SENDS 12
/* How long the ports may take to appear (QEMU announces them after the driver loads). */
#define PORT_WAIT_MS 30000

/*
 * The flood: the host cuts a connection off that sends more than 500
 * frames/s after a burst of 1000, or that leaves more than 64 KiB of
 * acknowledgements unread (DEFAULT_CONNECTION_LIMITS). The flood reads none,
 * and the guest's port holds at most 128 buffers of 4 KiB of them (QEMU's
 * queue size), about 131 000 acknowledgements: with 400 000 frames one of the
 * two bounds trips however slow or fast this guest runs.
 */
#define FLOOD_FRAMES 400000u
/* A field over the host's 16 KiB bound on a log message. */
#define OVER_BOUND_MESSAGE 20000u

static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("dev-guest: agent ", stdout);
  vfprintf(stdout, fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  fflush(stdout);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static void put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- Ports ---------------------------------------------------------------- */

/* The device of the virtio-serial port named `name`: /dev/virtio-ports/<name> (made by /init, no udev here), else found through sysfs. */
static int find_port(const char *name, char *path, size_t size) {
  char link[PATH_MAX];
  snprintf(link, sizeof link, "/dev/virtio-ports/%s", name);
  if (access(link, F_OK) == 0) {
    snprintf(path, size, "%s", link);
    return 0;
  }
  DIR *dir = opendir("/sys/class/virtio-ports");
  if (!dir) return -1;
  struct dirent *e;
  int found = -1;
  while (found < 0 && (e = readdir(dir)) != NULL) {
    if (strncmp(e->d_name, "vport", 5) != 0) continue;
    char file[PATH_MAX], got[128];
    snprintf(file, sizeof file, "/sys/class/virtio-ports/%s/name", e->d_name);
    FILE *f = fopen(file, "r");
    if (!f) continue;
    if (fgets(got, sizeof got, f)) {
      got[strcspn(got, "\n")] = '\0';
      if (strcmp(got, name) == 0) {
        snprintf(path, size, "/dev/%s", e->d_name);
        if (access(path, F_OK) == 0) found = 0;
      }
    }
    fclose(f);
  }
  closedir(dir);
  return found;
}

static int wait_port(const char *name, char *path, size_t size) {
  int64_t deadline = now_ms() + PORT_WAIT_MS;
  while (find_port(name, path, size) < 0) {
    if (now_ms() > deadline) return -1;
    sleep_ms(200);
  }
  return 0;
}

/* ---- Protobuf, by hand: varints, length-delimited fields, Timestamp -------- */

struct buf {
  uint8_t *p;
  size_t len, cap;
  int overflow;
};

static void put_byte(struct buf *b, uint8_t c) {
  if (b->len < b->cap) b->p[b->len++] = c;
  else b->overflow = 1;
}

static void put_raw(struct buf *b, const void *s, size_t n) {
  if (n > b->cap - b->len) {
    b->overflow = 1;
    return;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

static void put_varint(struct buf *b, uint64_t v) {
  while (v >= 0x80) {
    put_byte(b, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  put_byte(b, (uint8_t)v);
}

/* Wire types: 0 varint, 2 length-delimited. */
static void put_tag(struct buf *b, unsigned field, unsigned wire) { put_varint(b, (uint64_t)field << 3 | wire); }

static void put_len_field(struct buf *b, unsigned field, const void *s, size_t n) {
  put_tag(b, field, 2);
  put_varint(b, n);
  put_raw(b, s, n);
}

/* A proto3 string or bytes field: left out when empty, as encoders do. */
static void put_string(struct buf *b, unsigned field, const char *s) {
  if (s && *s) put_len_field(b, field, s, strlen(s));
}

/* google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; }: now. */
static void put_timestamp(struct buf *b, unsigned field) {
  struct timespec ts;
  uint8_t tmp[32];
  struct buf t = { tmp, 0, sizeof tmp, 0 };
  clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_sec != 0) {
    put_tag(&t, 1, 0);
    put_varint(&t, (uint64_t)(int64_t)ts.tv_sec); /* a negative int64 is its 10-byte two's complement */
  }
  if (ts.tv_nsec != 0) {
    put_tag(&t, 2, 0);
    put_varint(&t, (uint64_t)ts.tv_nsec);
  }
  put_len_field(b, field, t.p, t.len);
}

static uint8_t inner_space[PAYLOAD_CAP];

/* EventsLogs { agent_event = 2 }, AgentEvent { event_type 1, timestamp 2, computation_id 3, details 4, originator 5, status 6 }. */
static void encode_event(struct buf *out, const char *type, const char *computation_id, const char *details, const char *status) {
  struct buf in = { inner_space, 0, sizeof inner_space, 0 };
  put_string(&in, 1, type);
  put_timestamp(&in, 2);
  put_string(&in, 3, computation_id);
  put_string(&in, 4, details);
  put_string(&in, 5, "agent");
  put_string(&in, 6, status);
  put_len_field(out, 2, in.p, in.len);
  out->overflow |= in.overflow;
}

/* EventsLogs { agent_log = 1 }, AgentLog { message 1, computation_id 2, level 3, timestamp 4 }. */
static void encode_log(struct buf *out, const char *level, const char *computation_id, const char *message, int timestamp) {
  struct buf in = { inner_space, 0, sizeof inner_space, 0 };
  put_string(&in, 1, message);
  put_string(&in, 2, computation_id);
  put_string(&in, 3, level);
  if (timestamp) put_timestamp(&in, 4);
  put_len_field(out, 1, in.p, in.len);
  out->overflow |= in.overflow;
}

/* ---- The events port: frames, acknowledgements ----------------------------- */

struct events {
  int fd;
  uint32_t next_id;
  /* Acknowledgement bytes received so far of the next one (they may come split). */
  uint8_t ack[4];
  int ack_have;
};

/* Reads and forgets whatever the host sent (acknowledgements not waited for, or of a connection now gone). */
static void drain(struct events *ev) {
  uint8_t in[4096];
  while (read(ev->fd, in, sizeof in) > 0) {
  }
  ev->ack_have = 0;
}

/*
 * Writes all of p (in one write when it is at most 32 KiB), waiting while the
 * host end is not connected or the port is full. 0, or -1 when the port failed.
 */
static int write_all(struct events *ev, const uint8_t *p, size_t n) {
  int waiting_said = 0;
  while (n > 0) {
    ssize_t w = write(ev->fd, p, n > MAX_WRITE ? MAX_WRITE : n);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN) {
      say("writing to the events port failed: %s", strerror(errno));
      return -1;
    }
    /* Full (w == 0 or EAGAIN), or the host end is not connected (POLLHUP). */
    struct pollfd pfd = { ev->fd, POLLOUT, 0 };
    int r = poll(&pfd, 1, 1000);
    if (r > 0 && (pfd.revents & POLLHUP) && !(pfd.revents & POLLOUT)) {
      if (!waiting_said) say("waiting for the host to connect to the events port");
      waiting_said = 1;
      /* What comes next is on a new connection: its acknowledgements start afresh. */
      drain(ev);
      sleep_ms(250);
    }
  }
  return 0;
}

/* 1: the acknowledgement of `id` came; 0: none within timeout_ms; -1: the host end closed first. */
static int wait_ack(struct events *ev, uint32_t id, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd pfd = { ev->fd, POLLIN, 0 };
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 0;
    if (pfd.revents & POLLIN) {
      uint8_t in[4096];
      ssize_t n = read(ev->fd, in, sizeof in);
      if (n > 0) {
        int found = 0;
        for (ssize_t i = 0; i < n; i++) {
          ev->ack[ev->ack_have++] = in[i];
          if (ev->ack_have == 4) {
            ev->ack_have = 0;
            if (get_le32(ev->ack) == id) found = 1; /* others: late ones of frames sent again */
          }
        }
        if (found) return 1;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      ev->ack_have = 0;
      return -1; /* 0: no data and the host end is gone */
    }
    if (pfd.revents & (POLLHUP | POLLERR)) {
      ev->ack_have = 0;
      return -1;
    }
  }
}

static uint8_t frame_space[FRAME_CAP];

/* Sends `payload` as one frame under a new id, again (same id) until acknowledged. 0 when acknowledged. */
static int send_acked(struct events *ev, const struct buf *payload, const char *what) {
  if (payload->overflow || payload->len > PAYLOAD_CAP) {
    say("%s does not fit a frame; not sent", what);
    return -1;
  }
  uint32_t id = ev->next_id++;
  put_le32(frame_space, id);
  put_le32(frame_space + 4, (uint32_t)payload->len);
  memcpy(frame_space + 8, payload->p, payload->len);
  for (int send = 1; send <= MAX_SENDS; send++) {
    if (write_all(ev, frame_space, 8 + payload->len) < 0) return -1;
    int r = wait_ack(ev, id, ACK_TIMEOUT_MS);
    if (r == 1) {
      say("sent %s as frame %u; acknowledged", what, id);
      return 0;
    }
    if (r == 0) {
      say("no acknowledgement of frame %u (%s) in %d s; sending it again", id, what, ACK_TIMEOUT_MS / 1000);
      drain(ev);
    } else {
      say("the host closed the events port before acknowledging frame %u (%s); sending it again", id, what);
    }
  }
  say("frame %u (%s) not acknowledged after %d sends; giving up on it", id, what, MAX_SENDS);
  return -1;
}

static uint8_t payload_space[PAYLOAD_CAP];

static int send_event(struct events *ev, const char *type, const char *computation_id, const char *details, const char *status) {
  struct buf b = { payload_space, 0, sizeof payload_space, 0 };
  char what[256];
  encode_event(&b, type, computation_id, details, status);
  snprintf(what, sizeof what, "event %s/%s", type, status);
  return send_acked(ev, &b, what);
}

static int send_log(struct events *ev, const char *level, const char *computation_id, const char *message) {
  struct buf b = { payload_space, 0, sizeof payload_space, 0 };
  char what[64];
  encode_log(&b, level, computation_id, message, 1);
  snprintf(what, sizeof what, "log (%s)", level);
  return send_acked(ev, &b, what);
}

/* ---- Attacks (cocos.agentattack=...) --------------------------------------- */

/* Frames whose payloads the host must drop as malformed, each acknowledged all the same; the connection stays. */
static void attack_malformed(struct events *ev) {
  static const uint8_t not_protobuf[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  /* agent_event announcing 100 bytes, 3 there. */
  static const uint8_t truncated[] = { 0x12, 100, 0x0a, 1, 'x' };
  static uint8_t long_message[OVER_BOUND_MESSAGE + 1];
  struct buf b;

  say("attack malformed: 4 frames the host must drop");
  b = (struct buf){ payload_space, 0, sizeof payload_space, 0 };
  put_raw(&b, not_protobuf, sizeof not_protobuf);
  send_acked(ev, &b, "malformed frame (not protobuf)");

  b = (struct buf){ payload_space, 0, sizeof payload_space, 0 };
  send_acked(ev, &b, "malformed frame (empty: neither a log nor an event)");

  b = (struct buf){ payload_space, 0, sizeof payload_space, 0 };
  put_raw(&b, truncated, sizeof truncated);
  send_acked(ev, &b, "malformed frame (truncated event)");

  memset(long_message, 'x', OVER_BOUND_MESSAGE);
  long_message[OVER_BOUND_MESSAGE] = '\0';
  b = (struct buf){ payload_space, 0, sizeof payload_space, 0 };
  encode_log(&b, "info", "", (const char *)long_message, 1);
  send_acked(ev, &b, "malformed frame (a 20000-byte log message, over the 16 KiB bound)");
}

/*
 * A header announcing 1 MiB + 1 bytes and nothing after it: the host must
 * close the connection at once. Then a good log, sent again until a new
 * connection acknowledges it.
 */
static void attack_oversized(struct events *ev) {
  uint8_t header[8];
  uint32_t id = ev->next_id++;
  put_le32(header, id);
  put_le32(header + 4, MAX_FRAME_PAYLOAD + 1);
  say("attack oversized: frame %u announces %u payload bytes", id, MAX_FRAME_PAYLOAD + 1);
  if (write_all(ev, header, sizeof header) < 0) return;
  send_log(ev, "warn", "", "dev-guest agent sent an oversized frame header; connected again");
}

static uint8_t flood_chunk[MAX_WRITE];

/*
 * FLOOD_FRAMES valid logs as fast as the port takes them, acknowledgements
 * unread, in writes of whole frames; stops when the host end closes.
 */
static void attack_flood(struct events *ev) {
  uint8_t payload[64];
  struct buf b = { payload, 0, sizeof payload, 0 };
  encode_log(&b, "debug", "", "dev-guest agent flood", 0);
  size_t frame_len = 8 + b.len;
  size_t per_chunk = sizeof flood_chunk / frame_len;
  for (size_t i = 0; i < per_chunk; i++) {
    put_le32(flood_chunk + i * frame_len + 4, (uint32_t)b.len);
    memcpy(flood_chunk + i * frame_len + 8, b.p, b.len);
  }
  drain(ev);
  say("attack flood: %u frames of %zu bytes, acknowledgements unread", FLOOD_FRAMES, frame_len);
  uint32_t sent = 0;
  int cut = 0;
  while (sent < FLOOD_FRAMES && !cut) {
    size_t k = FLOOD_FRAMES - sent < per_chunk ? FLOOD_FRAMES - sent : per_chunk;
    for (size_t i = 0; i < k; i++) put_le32(flood_chunk + i * frame_len, ev->next_id++);
    size_t len = k * frame_len;
    for (;;) {
      ssize_t w = write(ev->fd, flood_chunk, len);
      if (w == (ssize_t)len) break;
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno != EAGAIN) {
        say("attack flood: writing failed: %s", strerror(errno));
        return;
      }
      if (w > 0) {
        /* Not expected (the driver takes a write of at most 32 KiB whole); the stream is no longer framed. */
        say("attack flood: a short write (%zd of %zu bytes); stopping", w, len);
        return;
      }
      struct pollfd pfd = { ev->fd, POLLOUT, 0 };
      int r = poll(&pfd, 1, 1000);
      if (r > 0 && (pfd.revents & POLLHUP) && !(pfd.revents & POLLOUT)) {
        cut = 1;
        break;
      }
    }
    if (!cut) sent += (uint32_t)k;
  }
  if (cut) say("attack flood: the host closed the events port after %u frames written", sent);
  else say("attack flood: all %u frames written, the port still open", sent);
  drain(ev);
}

/* The value of cocos.agentattack= on the kernel command line (its own, or inside agent.aa_kbc_params=), or "" when there is none. */
static void attack_kinds(char *out, size_t size) {
  char line[4096];
  out[0] = '\0';
  FILE *f = fopen("/proc/cmdline", "r");
  if (!f) return;
  if (fgets(line, sizeof line, f)) {
    static const char key[] = "cocos.agentattack=";
    for (char *p = line; (p = strstr(p, key)) != NULL; p += sizeof key - 1) {
      /* Its own parameter, or the value of agent.aa_kbc_params: that one comes from a VM's CreateReq (aa_kbs_params),
         so one VM of a manager can attack while the others, booted with the same MANAGER_QEMU_KERNEL_CMDLINE, do not. */
      static const char via[] = "agent.aa_kbc_params=";
      int own = p == line || p[-1] == ' ';
      int passed = (size_t)(p - line) >= sizeof via - 1 && strncmp(p - (sizeof via - 1), via, sizeof via - 1) == 0;
      if (!own && !passed) continue;
      p += sizeof key - 1;
      size_t n = strcspn(p, " \n");
      if (n >= size) n = size - 1;
      memcpy(out, p, n);
      out[n] = '\0';
      break;
    }
  }
  fclose(f);
}

static void attack(struct events *ev, char *kinds) {
  char done[128] = "";
  if (strcmp(kinds, "all") == 0) strcpy(kinds, "malformed,oversized,flood");
  for (char *save = NULL, *kind = strtok_r(kinds, ",", &save); kind; kind = strtok_r(NULL, ",", &save)) {
    if (strcmp(kind, "malformed") == 0) attack_malformed(ev);
    else if (strcmp(kind, "oversized") == 0) attack_oversized(ev);
    else if (strcmp(kind, "flood") == 0) attack_flood(ev);
    else {
      say("unknown attack %.32s; skipped (malformed, oversized, flood, all)", kind);
      continue;
    }
    if (strlen(done) + strlen(kind) + 2 < sizeof done) {
      if (done[0]) strcat(done, ",");
      strcat(done, kind);
    }
  }
  char details[192];
  snprintf(details, sizeof details, "{\"attacks\":\"%s\"}", done);
  say("attacks done (%s)", done);
  send_event(ev, "agent-attack", "", details, "done");
}

/* ---- The manifest: a JSON object; its top-level "id" ----------------------- */

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static int hex4(const uint8_t *p, const uint8_t *end, unsigned *v) {
  if (end - p < 4) return -1;
  *v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = p[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return -1;
    *v = *v << 4 | d;
  }
  return 0;
}

static void out_byte(char *out, size_t cap, size_t *len, int *truncated, unsigned c) {
  if (!out) return;
  if (*len + 1 < cap) out[(*len)++] = (char)c;
  else *truncated = 1;
}

/*
 * A JSON string at p (at its opening quote): the position after its closing
 * quote, or NULL when it is not a valid string. Decoded into out (UTF-8,
 * NUL-terminated) when out is not NULL; *truncated when it did not fit.
 */
static const uint8_t *scan_string(const uint8_t *p, const uint8_t *end, char *out, size_t cap, int *truncated) {
  size_t len = 0;
  if (p >= end || *p != '"') return NULL;
  p++;
  while (p < end) {
    unsigned c = *p++;
    if (c == '"') {
      if (out) out[len] = '\0';
      return p;
    }
    if (c < 0x20) return NULL;
    if (c != '\\') {
      out_byte(out, cap, &len, truncated, c);
      continue;
    }
    if (p >= end) return NULL;
    c = *p++;
    switch (c) {
    case '"': case '\\': case '/': out_byte(out, cap, &len, truncated, c); break;
    case 'b': out_byte(out, cap, &len, truncated, '\b'); break;
    case 'f': out_byte(out, cap, &len, truncated, '\f'); break;
    case 'n': out_byte(out, cap, &len, truncated, '\n'); break;
    case 'r': out_byte(out, cap, &len, truncated, '\r'); break;
    case 't': out_byte(out, cap, &len, truncated, '\t'); break;
    case 'u': {
      unsigned u, lo;
      if (hex4(p, end, &u) < 0) return NULL;
      p += 4;
      if (u >= 0xdc00 && u <= 0xdfff) return NULL;
      if (u >= 0xd800 && u <= 0xdbff) {
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, end, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) return NULL;
        p += 6;
        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
      }
      if (u < 0x80) out_byte(out, cap, &len, truncated, u);
      else if (u < 0x800) {
        out_byte(out, cap, &len, truncated, 0xc0 | u >> 6);
        out_byte(out, cap, &len, truncated, 0x80 | (u & 0x3f));
      } else if (u < 0x10000) {
        out_byte(out, cap, &len, truncated, 0xe0 | u >> 12);
        out_byte(out, cap, &len, truncated, 0x80 | (u >> 6 & 0x3f));
        out_byte(out, cap, &len, truncated, 0x80 | (u & 0x3f));
      } else {
        out_byte(out, cap, &len, truncated, 0xf0 | u >> 18);
        out_byte(out, cap, &len, truncated, 0x80 | (u >> 12 & 0x3f));
        out_byte(out, cap, &len, truncated, 0x80 | (u >> 6 & 0x3f));
        out_byte(out, cap, &len, truncated, 0x80 | (u & 0x3f));
      }
      break;
    }
    default:
      return NULL;
    }
  }
  return NULL;
}

/* Past one JSON value at p (a string, an object or array with what it holds, a number or literal), or NULL. */
static const uint8_t *skip_value(const uint8_t *p, const uint8_t *end) {
  if (p >= end) return NULL;
  if (*p == '"') return scan_string(p, end, NULL, 0, NULL);
  if (*p == '{' || *p == '[') {
    size_t depth = 0;
    while (p < end) {
      if (*p == '"') {
        p = scan_string(p, end, NULL, 0, NULL);
        if (!p) return NULL;
        continue;
      }
      if (*p == '{' || *p == '[') depth++;
      else if (*p == '}' || *p == ']') {
        if (--depth == 0) return p + 1;
      }
      p++;
    }
    return NULL;
  }
  const uint8_t *start = p;
  while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '+' || *p == '.' || *p == 'E')) p++;
  return p == start ? NULL : p;
}

/* The top-level "id" string of the JSON object in m (the last, if several, as Go's encoding/json takes it): 0, or -1 with why. */
static int manifest_id(const uint8_t *m, size_t n, char *id, size_t cap, const char **why) {
  const uint8_t *p = m, *end = m + n;
  int found = 0;
  p = skip_ws(p, end);
  if (p >= end || *p != '{') {
    *why = "the manifest is not a JSON object";
    return -1;
  }
  p = skip_ws(p + 1, end);
  if (p < end && *p == '}') {
    *why = "the manifest has no id";
    return -1;
  }
  for (;;) {
    char key[8];
    int key_truncated = 0;
    p = scan_string(p, end, key, sizeof key, &key_truncated);
    if (!p) break;
    p = skip_ws(p, end);
    if (p >= end || *p != ':') break;
    p = skip_ws(p + 1, end);
    if (!key_truncated && strcmp(key, "id") == 0) {
      int id_truncated = 0;
      if (p >= end || *p != '"') {
        *why = "the manifest's id is not a string";
        return -1;
      }
      p = scan_string(p, end, id, cap, &id_truncated);
      if (!p) break;
      if (id_truncated) {
        *why = "the manifest's id is longer than 128 bytes";
        return -1;
      }
      found = 1;
    } else {
      p = skip_value(p, end);
      if (!p) break;
    }
    p = skip_ws(p, end);
    if (p < end && *p == ',') {
      p = skip_ws(p + 1, end);
      continue;
    }
    if (p < end && *p == '}') {
      if (!found) {
        *why = "the manifest has no id";
        return -1;
      }
      return 0;
    }
    break;
  }
  *why = "the manifest is not valid JSON";
  return -1;
}

/* An id the agent page (KEY=VALUE lines) and the JSON details can carry as it is: 1-128 printable ASCII, no quote or backslash. */
static int publishable(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > MAX_ID) return 0;
  for (const unsigned char *c = (const unsigned char *)id; *c; c++) {
    if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == '\\') return 0;
  }
  return 1;
}

static uint8_t manifest[MAX_MANIFEST];

/* Reads one manifest: until the host ends its connection after some data. Its length (the bytes kept), *seen all bytes read. */
static size_t read_manifest(int fd, uint64_t *seen) {
  static uint8_t spill[65536];
  size_t kept = 0;
  *seen = 0;
  for (;;) {
    uint8_t *dst = kept < MAX_MANIFEST ? manifest + kept : spill;
    size_t room = kept < MAX_MANIFEST ? MAX_MANIFEST - kept : sizeof spill;
    ssize_t n = read(fd, dst, room);
    if (n > 0) {
      if (kept < MAX_MANIFEST) kept += (size_t)n;
      *seen += (uint64_t)n;
      continue;
    }
    if (n == 0) {
      /* No data and no host: the end of a manifest, or none has come yet. */
      if (*seen > 0) return kept;
      sleep_ms(200);
      continue;
    }
    if (errno == EAGAIN || errno == EINTR) {
      /* The host is connected and has sent nothing more yet. */
      struct pollfd pfd = { fd, POLLIN, 0 };
      poll(&pfd, 1, 1000);
      continue;
    }
    say("reading the manifest port failed: %s", strerror(errno));
    sleep_ms(1000);
  }
}

/* What the manifest reader tells the reporter, one record per manifest (one atomic pipe write). */
struct manifest_note {
  uint64_t bytes;
  char id[MAX_ID + 1]; /* "" when refused */
  char why[160];
};

/*
 * The manifest reader (a child process, so that a manifest is taken and
 * published however long the events port keeps the parent): reads each
 * manifest, appends MANIFEST_ID=<id> to the agent page, and notes it on `out`
 * for the parent to report.
 */
static void read_manifests(int out) {
  char path[PATH_MAX];
  if (wait_port(MANIFEST_PORT, path, sizeof path) < 0) {
    say("no %s port; no manifest will come", MANIFEST_PORT);
    return;
  }
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    say("cannot open %s: %s", path, strerror(errno));
    return;
  }
  for (;;) {
    say("waiting for the manifest on %s", path);
    struct manifest_note note;
    uint64_t seen;
    size_t n = read_manifest(fd, &seen);
    const char *why = NULL;
    memset(&note, 0, sizeof note);
    note.bytes = seen;
    if (seen > MAX_MANIFEST) {
      why = "the manifest is larger than 1 MiB";
    } else if (manifest_id(manifest, n, note.id, sizeof note.id, &why) == 0 && !publishable(note.id)) {
      why = "the manifest's id is not 1-128 printable ASCII characters without quotes or backslashes";
    }
    if (why) {
      say("manifest of %llu bytes refused: %s", (unsigned long long)seen, why);
      note.id[0] = '\0';
      snprintf(note.why, sizeof note.why, "%s", why);
    } else {
      int page = open(AGENT_PAGE, O_WRONLY | O_APPEND | O_CLOEXEC);
      if (page >= 0) {
        dprintf(page, "MANIFEST_ID=%s\n", note.id);
        close(page);
      } else {
        say("cannot append to %s: %s", AGENT_PAGE, strerror(errno));
      }
      say("manifest of computation %s received (%zu bytes); MANIFEST_ID on the agent page", note.id, n);
    }
    if (write(out, &note, sizeof note) != (ssize_t)sizeof note) {
      say("cannot pass the manifest on to be reported: %s", strerror(errno));
      return;
    }
  }
}

/* The parent: reports each manifest the reader took as an AgentEvent and an AgentLog. */
static void report_manifests(struct events *ev, int in) {
  struct manifest_note note;
  char details[256], message[320];
  for (;;) {
    ssize_t n = read(in, &note, sizeof note);
    if (n < 0 && errno == EINTR) continue;
    if (n != (ssize_t)sizeof note) {
      say("the manifest reader is gone; no more manifests");
      return;
    }
    note.id[MAX_ID] = '\0';
    note.why[sizeof note.why - 1] = '\0';
    unsigned long long bytes = (unsigned long long)note.bytes;
    if (note.id[0] == '\0') {
      snprintf(details, sizeof details, "{\"manifest_bytes\":%llu,\"error\":\"%s\"}", bytes, note.why);
      send_event(ev, "computation-received", "", details, "failed");
      snprintf(message, sizeof message, "dev-guest agent refused a manifest of %llu bytes: %s", bytes, note.why);
      send_log(ev, "error", "", message);
      continue;
    }
    snprintf(details, sizeof details, "{\"manifest_bytes\":%llu}", bytes);
    send_event(ev, "computation-received", note.id, details, "received");
    snprintf(message, sizeof message, "dev-guest agent received the manifest of computation %s (%llu bytes)", note.id, bytes);
    send_log(ev, "info", note.id, message);
  }
}

int main(void) {
  char path[PATH_MAX], kinds[128];
  int notes[2];
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_IGN); /* the reader, should it end, is reaped by the kernel */
  if (wait_port(EVENTS_PORT, path, sizeof path) < 0) {
    say("no %s port; not started", EVENTS_PORT);
    return 0;
  }
  if (pipe(notes) < 0) {
    say("pipe: %s", strerror(errno));
    return 1;
  }
  pid_t reader = fork();
  if (reader < 0) {
    say("fork: %s", strerror(errno));
    return 1;
  }
  if (reader == 0) {
    close(notes[0]);
    read_manifests(notes[1]);
    _exit(0);
  }
  close(notes[1]);
  struct events ev = { -1, 1, { 0 }, 0 };
  ev.fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (ev.fd < 0) {
    say("cannot open %s: %s", path, strerror(errno));
    return 1;
  }
  say("started (events on %s)", path);
  send_event(&ev, "agent-start", "", "{\"agent\":\"cocos-manager dev guest\",\"manifest_port\":\"" MANIFEST_PORT "\"}", "ready");
  send_log(&ev, "info", "", "dev-guest agent started");
  attack_kinds(kinds, sizeof kinds);
  if (kinds[0]) attack(&ev, kinds);
  report_manifests(&ev, notes[0]);
  /* Nothing more to report: stay, as an agent does (the reader may still publish). */
  for (;;) pause();
}
