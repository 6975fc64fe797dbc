/* The host terminal in raw mode while a container's terminal is relayed, and back exactly
 * as it was afterwards (the saved termios, not a guess at "cooked"). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <termios.h>
#include "mycfs.h"

/* Saves fd's settings into saved (size bytes, at least sizeof(struct termios)), then raw. */
int mycfs_tty_raw(int fd, uint8_t *saved, uint32_t size) {
  struct termios t;
  if (size < sizeof t) return -EINVAL;
  if (tcgetattr(fd, &t) < 0) return -errno;
  memcpy(saved, &t, sizeof t);
  cfmakeraw(&t);
  return tcsetattr(fd, TCSADRAIN, &t) < 0 ? -errno : 0;
}

int mycfs_tty_restore(int fd, const uint8_t *saved, uint32_t size) {
  struct termios t;
  if (size < sizeof t) return -EINVAL;
  memcpy(&t, saved, sizeof t);
  return tcsetattr(fd, TCSADRAIN, &t) < 0 ? -errno : 0;
}
