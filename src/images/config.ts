// An image's configuration, as its author set it: the "config" object of an OCI image
// config (image-spec config.md; docker's schema 2 image config has the same fields and
// names). mycfs keeps it in the image's record and applies it when a container starts.
// Images without one (the embedded busybox, Alpine's minirootfs, a plain tarball) have {}.
export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  /** KEY=VALUE entries. */
  Env?: string[];
  WorkingDir?: string;
  /** NAME|UID[:GROUP|GID], resolved in the image's /etc/passwd and /etc/group. */
  User?: string;
  StopSignal?: string;
  Labels?: Record<string, string>;
  /** "80/tcp": {} — recorded for the networking work. */
  ExposedPorts?: Record<string, object>;
}

/** The platform an image was built for (image-spec's os, architecture, variant). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}
