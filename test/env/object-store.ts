// A real S3-compatible object store for tests and the local cluster:
// SeaweedFS's `weed server` (master, volume server, filer and S3 gateway in
// one process), built from its Go module by test/env/objectstore/build.sh.
// Every port is chosen free, data lives under a directory of its own, and the
// S3 gateway knows one identity (random keys) and refuses anonymous requests.
//
// The returned record is plain JSON (plus two methods that JSON leaves out),
// so `flightdeck dev up --nodes` keeps it in cluster.json and stops it later
// with stopObjectStore.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '../../src/storage/s3.ts';
import { repoRoot } from './paths.ts';
import { freePort } from './ports.ts';
import { startProcess, stopProcess, waitUntil, type StartedProcess } from './processes.ts';

export interface ObjectStoreRecord {
  /** `http://<host>:<port>` of the S3 gateway. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** What clients sign for; SeaweedFS accepts any region, the client must still name one. */
  readonly region: string;
  /** Data, configuration and log; removed by stop when it was created by start. */
  readonly dir: string;
  readonly removeDirOnStop: boolean;
  readonly process: StartedProcess;
}

export interface ObjectStore extends ObjectStoreRecord {
  /** Creates a bucket (an existing one of ours is fine). */
  createBucket(name: string): Promise<void>;
  /** A client with the store's credentials; close it when done. */
  client(): S3Client;
  /** Stops the process and removes the directory when start created it. */
  stop(): Promise<void>;
}

export interface StartObjectStoreOptions {
  /** The address to listen on; pods reach the local cluster's store on the bridge's address. Default 127.0.0.1. */
  host?: string;
  /** Directory for data, configuration and log; a new temporary one (removed on stop) when absent. */
  dir?: string;
  /** Buckets to create before returning. */
  buckets?: readonly string[];
  /** Learns the store as soon as its process runs, before it is ready (to record it for a later stop). */
  onStarted?: (record: ObjectStoreRecord) => void;
}

let built: string | undefined;

/** SeaweedFS's weed binary, built by test/env/objectstore/build.sh when the cache lacks it (progress on stderr). */
export function objectStoreBinary(): string {
  built ??= join(execFileSync(join(repoRoot, 'test/env/objectstore/build.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim(), 'weed');
  return built;
}

/** The S3 gateway's identities: one with every action; no anonymous identity, so unsigned requests are refused. */
function identities(accessKeyId: string, secretAccessKey: string): string {
  return JSON.stringify({
    identities: [{ name: 'flightdeck', credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }], actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'] }],
  });
}

/** Starts a store and returns once its S3 gateway answers signed requests and can store objects. */
export async function startObjectStore(options: StartObjectStoreOptions = {}): Promise<ObjectStore> {
  const host = options.host ?? '127.0.0.1';
  const removeDirOnStop = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'flightdeck-object-store-'));
  const accessKeyId = `FD${randomBytes(9).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64url');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 's3.json');
  writeFileSync(config, identities(accessKeyId, secretAccessKey), { mode: 0o600 });
  // The eight ports are free when chosen, but another process started
  // alongside (a cluster starts its components at once) can take one before
  // SeaweedFS binds it; then it exits, and a new set is tried.
  for (let attempt = 1; ; attempt++) {
    // A fresh data directory: the failed master may have kept its raft state there.
    const dataDir = join(dir, attempt === 1 ? 'data' : `data-${attempt}`);
    mkdirSync(dataDir, { recursive: true });
    const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = await Promise.all(Array.from({ length: 8 }, () => freePort()));
    const proc = startProcess({
      name: 'seaweedfs',
      command: objectStoreBinary(),
      args: [
        'server',
        `-ip=${host}`,
        `-ip.bind=${host}`,
        `-dir=${dataDir}`,
        `-master.port=${master}`, `-master.port.grpc=${masterGrpc}`,
        `-volume.port=${volume}`, `-volume.port.grpc=${volumeGrpc}`,
        '-filer', `-filer.port=${filer}`, `-filer.port.grpc=${filerGrpc}`, `-filer.localSocket=${join(dir, 'filer.sock')}`,
        '-s3', `-s3.port=${s3}`, `-s3.port.grpc=${s3Grpc}`, `-s3.config=${config}`,
        // As S3 does: a write to a bucket that does not exist fails (a mistyped bucket must not appear silently).
        '-s3.autoCreateBucket=false',
        // Off: the Iceberg and Lance catalogs (their own fixed ports) and the usage report to seaweedfs.com.
        '-s3.port.iceberg=0', '-s3.port.lance=0', '-master.telemetry=false',
        // Small volumes, grown on demand: a test store holds megabytes, a benchmark a few GiB.
        '-master.volumeSizeLimitMB=128', '-volume.max=0', '-volume.preStopSeconds=0',
      ],
      logFile: join(dir, 'seaweedfs.log'),
      cwd: dir,
    });
    const record: ObjectStoreRecord = { endpoint: `http://${host}:${s3}`, accessKeyId, secretAccessKey, region: 'us-east-1', dir, removeDirOnStop, process: proc };
    options.onStarted?.(record);
    const store = withMethods(record);
    try {
      await waitForObjectStore(store, options.buckets ?? []);
      return store;
    } catch (error) {
      const portTaken = error instanceof Error && /exited while waiting[\s\S]*address already in use/.test(error.message);
      if (portTaken && attempt < 3) {
        await stopProcess(proc.pid);
        continue;
      }
      await stopObjectStore(record);
      throw error;
    }
  }
}

/**
 * The gateway answers before the volume server has joined the master; until
 * then a write fails. Ready means every bucket asked for exists and a probe
 * object can be written and deleted (in the first of them, or in a probe
 * bucket removed afterwards).
 */
async function waitForObjectStore(store: ObjectStore, buckets: readonly string[]): Promise<void> {
  const client = store.client();
  const probeBucket = buckets[0] ?? 'flightdeck-ready-probe';
  try {
    await waitUntil(
      `the object store at ${store.endpoint} to store objects`,
      async () => {
        for (const bucket of [probeBucket, ...buckets]) await client.createBucket(bucket);
        await client.putObject(probeBucket, '.flightdeck-ready-probe', 'ready');
        await client.deleteObject(probeBucket, '.flightdeck-ready-probe');
        return true;
      },
      { timeoutMs: 60_000, process: store.process, intervalMs: 100 },
    );
    if (buckets.length === 0) await client.deleteBucket(probeBucket);
  } finally {
    client.close();
  }
}

/** The record with its methods (for one read back from JSON). */
export function withMethods(record: ObjectStoreRecord): ObjectStore {
  const client = (): S3Client => new S3Client({ endpoint: record.endpoint, region: record.region, credentials: { accessKeyId: record.accessKeyId, secretAccessKey: record.secretAccessKey } });
  return {
    ...record,
    client,
    createBucket: async (name) => {
      const s3 = client();
      try {
        await s3.createBucket(name);
      } finally {
        s3.close();
      }
    },
    stop: () => stopObjectStore(record),
  };
}

/** Stops the store's process and removes its directory when start created it. */
export async function stopObjectStore(record: ObjectStoreRecord): Promise<void> {
  await stopProcess(record.process.pid);
  if (record.removeDirOnStop) rmSync(record.dir, { recursive: true, force: true });
}
