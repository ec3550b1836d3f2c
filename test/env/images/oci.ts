// OCI image archives assembled from layer tarballs, without a container
// engine: the blobs, config, manifest, index and oci-layout that
// `ctr images import` reads. Layers stay uncompressed: the archive is made
// once, cached, and only ever read by a local import, where gzip would cost
// time on both sides and save nothing that matters.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, linkSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The runtime settings of an image; the fields of the OCI image config's `config`. */
export interface ImageConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  /** `NAME=value` entries; PATH should be among them. */
  readonly env?: readonly string[];
  readonly workingDir?: string;
  /** `uid[:gid]` or a name from the image's /etc/passwd. */
  readonly user?: string;
  /** Such as `3306/tcp`. */
  readonly exposedPorts?: readonly string[];
  readonly volumes?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ImageSpec {
  /** Full reference, e.g. `flightdeck.local/mariadb:10.11`; the name containerd stores. */
  readonly name: string;
  /** Uncompressed layer tarballs, lowest first. */
  readonly layers: readonly string[];
  readonly config: ImageConfig;
}

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

const mediaTypes = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

function sha256OfFile(path: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(4 * 1024 * 1024);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    closeSync(fd);
  }
  return `sha256:${hash.digest('hex')}`;
}

function blobPath(layout: string, digest: string): string {
  return join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

function writeJsonBlob(layout: string, mediaType: string, value: unknown): Descriptor {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  writeFileSync(blobPath(layout, digest), bytes);
  return { mediaType, digest, size: bytes.length };
}

const asSet = (items: readonly string[] | undefined): Record<string, Record<string, never>> | undefined =>
  items === undefined ? undefined : Object.fromEntries(items.map((item) => [item, {}]));

/**
 * Writes `spec` as an OCI image layout packed in a tar file at `archive`
 * (replacing it), in the form `ctr images import` accepts. The index entry
 * carries the image name in the annotations containerd reads, so the import
 * stores the image under exactly `spec.name`.
 */
export function writeOciArchive(spec: ImageSpec, archive: string): void {
  const layout = `${archive}.layout-${process.pid}`;
  rmSync(layout, { recursive: true, force: true });
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  try {
    const layers: Descriptor[] = spec.layers.map((file) => {
      const digest = sha256OfFile(file);
      // A hard link: the layer may be hundreds of megabytes and lives on the same file system.
      linkSync(file, blobPath(layout, digest));
      return { mediaType: mediaTypes.layer, digest, size: statSync(file).size };
    });
    const c = spec.config;
    const config = writeJsonBlob(layout, mediaTypes.config, {
      architecture: 'amd64',
      os: 'linux',
      config: {
        Entrypoint: c.entrypoint,
        Cmd: c.cmd,
        Env: c.env,
        WorkingDir: c.workingDir,
        User: c.user,
        ExposedPorts: asSet(c.exposedPorts),
        Volumes: asSet(c.volumes),
        Labels: c.labels,
      },
      // Uncompressed layers: the diff ID is the layer's own digest.
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      history: layers.map(() => ({ created_by: 'flightdeck test/env/images' })),
    });
    const manifest = writeJsonBlob(layout, mediaTypes.manifest, {
      schemaVersion: 2,
      mediaType: mediaTypes.manifest,
      config,
      layers,
    });
    const tag = spec.name.slice(spec.name.lastIndexOf(':') + 1);
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: mediaTypes.index,
        manifests: [
          {
            ...manifest,
            platform: { architecture: 'amd64', os: 'linux' },
            annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const partial = `${archive}.partial-${process.pid}`;
    execFileSync('tar', ['--create', '--file', partial, '--directory', layout, 'oci-layout', 'index.json', 'blobs']);
    renameSync(partial, archive);
  } finally {
    rmSync(layout, { recursive: true, force: true });
  }
}

/**
 * Packs the directory `root` as an uncompressed layer tarball at `file`,
 * keeping numeric owners, permissions and extended attributes (file
 * capabilities), in name order so that equal trees give equal layers.
 */
export function writeLayer(root: string, file: string): void {
  const partial = `${file}.partial-${process.pid}`;
  execFileSync('tar', ['--create', '--file', partial, '--numeric-owner', '--xattrs', '--sort=name', '--directory', root, '.']);
  renameSync(partial, file);
}
