// A seccomp agent for the tests, as an engine's would be: a unix socket at a path that
// receives runtime-spec's container process state with the filter's notification fd
// (SCM_RIGHTS), and answers the notifications through the fd's ioctls. libc through
// bun:ffi, as test/seccomp-child.ts makes its calls; x86_64 and aarch64 lay the structs
// out alike.
import { dlopen, ptr, read } from "bun:ffi";

const { symbols: libc } = dlopen("libc.so.6", {
  socket: { args: ["i32", "i32", "i32"], returns: "i32" },
  bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
  listen: { args: ["i32", "i32"], returns: "i32" },
  accept4: { args: ["i32", "ptr", "ptr", "i32"], returns: "i32" },
  recvmsg: { args: ["i32", "ptr", "i32"], returns: "i64" },
  poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
  ioctl: { args: ["i32", "u64", "ptr"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
  __errno_location: { returns: "ptr" },
});

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const POLLIN = 1;
// _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp)
const SECCOMP_IOCTL_NOTIF_RECV = 0xc0502100;
const SECCOMP_IOCTL_NOTIF_SEND = 0xc0182101;
export const SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1;

const check = (rc: number | bigint, what: string) => {
  if (Number(rc) < 0) throw new Error(`${what}: errno ${read.i32(libc.__errno_location()!, 0)}`);
  return Number(rc);
};

/** Waits until fd is readable; false after ms. */
function readable(fd: number, ms: number): boolean {
  const p = new Int32Array([fd, POLLIN]); // struct pollfd: fd, events and revents (shorts)
  return check(libc.poll(p, 1, ms), "poll") > 0;
}

export interface Received {
  /** The container process state, as JSON. */
  state: string;
  /** The seccomp notification fd. */
  fd: number;
}

/** A listening socket at path, for SCMP_ACT_NOTIFY's listenerPath. */
export function listen(path: string) {
  const sock = check(libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
  const addr = new Uint8Array(110); // struct sockaddr_un
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(new TextEncoder().encode(path), 2);
  check(libc.bind(sock, addr, addr.length), `bind ${path}`);
  check(libc.listen(sock, 1), "listen");
  return {
    /** The one message of the next connection: the state and the fd beside it. */
    receive(ms = 5000): Received {
      if (!readable(sock, ms)) throw new Error("no connection to the seccomp listener");
      const conn = check(libc.accept4(sock, null, null, SOCK_CLOEXEC), "accept");
      try {
        const data = new Uint8Array(65536);
        const control = new Uint8Array(24); // CMSG_SPACE(sizeof(int))
        const iov = new BigUint64Array([BigInt(ptr(data)), BigInt(data.length)]);
        // struct msghdr: name, namelen, iov, iovlen, control, controllen, flags
        const msg = new BigUint64Array([0n, 0n, BigInt(ptr(iov)), 1n, BigInt(ptr(control)), BigInt(control.length), 0n]);
        const n = check(libc.recvmsg(conn, msg, 0), "recvmsg");
        const cmsg = new DataView(control.buffer);
        if (cmsg.getInt32(8, true) !== 1 || cmsg.getInt32(12, true) !== 1) throw new Error("no SCM_RIGHTS beside the state");
        return { state: new TextDecoder().decode(data.subarray(0, n)), fd: cmsg.getInt32(16, true) };
      } finally {
        libc.close(conn);
      }
    },
    close: () => libc.close(sock),
  };
}

export interface Notification {
  id: bigint;
  pid: number;
  /** The system call's number. */
  nr: number;
}

/** The next notification on a seccomp notification fd, within ms. */
export function nextNotification(fd: number, ms = 5000): Notification {
  if (!readable(fd, ms)) throw new Error("no seccomp notification");
  const n = new Uint8Array(80); // struct seccomp_notif, zeroed as the kernel requires
  check(libc.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, n), "SECCOMP_IOCTL_NOTIF_RECV");
  const v = new DataView(n.buffer);
  return { id: v.getBigUint64(0, true), pid: v.getUint32(8, true), nr: v.getInt32(16, true) };
}

/** The answer to a notification: the call's return value, or -errno, or the call itself (CONTINUE). */
export function answer(fd: number, id: bigint, o: { val?: number; error?: number; flags?: number }) {
  const r = new DataView(new ArrayBuffer(24)); // struct seccomp_notif_resp: id, val, error, flags
  r.setBigUint64(0, id, true);
  r.setBigInt64(8, BigInt(o.val ?? 0), true);
  r.setInt32(16, o.error ?? 0, true);
  r.setUint32(20, o.flags ?? 0, true);
  check(libc.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, new Uint8Array(r.buffer)), "SECCOMP_IOCTL_NOTIF_SEND");
}

export const closeFd = (fd: number) => libc.close(fd);
