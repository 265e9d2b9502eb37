#include "mk_attach.h"

#include <string.h>
#include <sys/socket.h>

int mk_attach_send(int sock, uint8_t type, const void *data, size_t len)
{
  char pkt[1 + MK_ATTACH_DATA_MAX];

  if (len > MK_ATTACH_DATA_MAX)
    len = MK_ATTACH_DATA_MAX;
  pkt[0] = (char)type;
  if (len)
    memcpy(pkt + 1, data, len);
  return send(sock, pkt, len + 1, MSG_NOSIGNAL) < 0 ? -1 : 0;
}
