// Runs its arguments (the suite: bun test …) in a network namespace of their own, with lo
// up: containers started as root are on the default bridge, which makes mycfs0, an
// nftables table and ip_forward in whichever namespace mycfs runs in; never the host's.
// This process stays in the host's namespace meanwhile, so that test/setup.ts can check,
// through /proc/PID/ns/net, that nothing of mycfs reached it.
const p = Bun.spawn(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", ...process.argv.slice(2)], {
  stdio: ["inherit", "inherit", "inherit"],
  env: { ...process.env, MYCFS_HOST_NET: `/proc/${process.pid}/ns/net` },
});
process.exitCode = await p.exited;
