/* The attach protocol between `mocker attach|start -a` and a container's
 * monitor, over the SOCK_SEQPACKET socket containers/<id>/attach.sock (or
 * a socketpair handed over when the monitor starts, so nothing printed
 * before the attach is lost).
 *
 * Every packet is one type byte and a payload:
 *   client -> monitor: HELLO {flags}, STDIN data, STDIN_EOF, RESIZE
 *                      {rows, cols}, SIGNAL {signo}
 *   monitor -> client: STDOUT data, STDERR data, EXIT {code}
 * The monitor sends EXIT when the container has exited and its state is
 * recorded, then closes. */
#ifndef MK_ATTACH_H
#define MK_ATTACH_H

#include <stddef.h>
#include <stdint.h>

enum mk_attach_type {
  MK_ATTACH_HELLO = 1,
  MK_ATTACH_STDIN = 2,
  MK_ATTACH_STDIN_EOF = 3,
  MK_ATTACH_RESIZE = 4,
  MK_ATTACH_SIGNAL = 5,
  MK_ATTACH_STDOUT = 6,
  MK_ATTACH_STDERR = 7,
  MK_ATTACH_EXIT = 8,
};

enum mk_attach_flags {
  MK_ATTACH_WANTS_STDIN = 1u << 0, /* forward this client's input */
};

#define MK_ATTACH_DATA_MAX 16384

struct mk_attach_resize {
  uint16_t rows, cols;
};

/* Sends one packet: the type byte, then len bytes of data (at most
 * MK_ATTACH_DATA_MAX). 0, or -1 with errno. */
int mk_attach_send(int sock, uint8_t type, const void *data, size_t len);

#endif
