// The executable starts with JavaScriptCore's tier-up thresholds raised (build.ts:
// --compile-jit-policy): a container's start runs each function a few times, and what
// the JIT compiled for it, on a thread of its own, only took CPU time from the container's
// setup on the other CPU. Work that loops over data for longer — unpacking an image,
// relaying a running container's input and output — asks for the normal JIT first.
export function normalJit() {
  Bun.unsafe.setJITPolicy(1);
}
