// A layered image built with real tools, for the tests that need one: umoci makes an OCI
// layout of two layers (busybox and a few files, then a second layer that deletes one file
// and replaces a directory, which umoci writes as whiteouts), sets a config, and skopeo
// copies it to an oci-archive tar and a docker-archive (docker save's format).
import { resolve } from "node:path";
import { withoutSystemCache } from "./helpers";

/** What a container of the image sees: `ls /opq`, /delme's absence, /kept/k. */
export const LOOK = "ls /opq; test -e /delme && echo delme-present; cat /kept/k";
export const SEEN = "b\nk\n";

/** Builds layout/, oci.tar and docker.tar (named archived:v1) in `dir`; for another
 * architecture (arm64's VM test), from that architecture's busybox image. */
export function buildLayered(dir: string, o: { busybox?: string; architecture?: string } = {}) {
  const busybox = resolve(o.busybox ?? "build/busybox.tar.gz");
  const arch = o.architecture ? `--architecture ${o.architecture}` : "";
  const r = Bun.spawnSync(
    withoutSystemCache([
      "sh",
      "-euc",
      `umoci init --layout layout && umoci new --image layout:t
umoci unpack --image layout:t b1 >/dev/null && tar -C b1/rootfs -xzf ${busybox}
mkdir b1/rootfs/opq b1/rootfs/kept && echo a > b1/rootfs/opq/a && echo k > b1/rootfs/kept/k && echo x > b1/rootfs/delme
umoci repack --image layout:t b1 && rm -rf b1
umoci unpack --image layout:t b2 >/dev/null && rm b2/rootfs/delme && rm -r b2/rootfs/opq && mkdir b2/rootfs/opq && echo b > b2/rootfs/opq/b
umoci repack --image layout:t b2 && rm -rf b2
umoci config --image layout:t ${arch} --config.entrypoint /bin/echo --config.cmd hello --config.env FOO=bar --config.workingdir /opq --config.user 65534 --config.label org.opencontainers.image.version=2.5
skopeo copy -q oci:layout:t oci-archive:oci.tar:t
skopeo copy -q oci:layout:t docker-archive:docker.tar:archived:v1`,
    ]),
    { cwd: dir, stderr: "pipe" },
  );
  if (r.exitCode !== 0) throw new Error(`building the layered image: ${r.stderr}`);
}
