// A bearer token kept in a file that something else rewrites: the kubelet
// rotates a pod's projected service-account token (about hourly, well before
// it expires), and kubeconfigs may name a `tokenFile` that a sidecar renews.
// Reading the file for every request would cost a syscall each; never reading
// it again would send an expired token. client-go re-reads it at most once a
// minute, and so does this.
import { readFileSync } from 'node:fs';

/** How long a token read from its file is used before the file is read again, as in client-go. */
export const tokenFileRereadMs = 60_000;

export class TokenFile {
  readonly #path: string;
  readonly #rereadMs: number;
  readonly #what: string;
  #token: string | undefined;
  /** performance.now() of the last successful read. */
  #readAt = 0;

  /**
   * `what` names the file's role in error messages (`the service-account
   * token`); the token itself never appears in one.
   */
  constructor(path: string, what: string, rereadMs = tokenFileRereadMs) {
    this.#path = path;
    this.#what = what;
    this.#rereadMs = rereadMs;
  }

  /**
   * The token: the file's content without surrounding whitespace, read again
   * when the last read is rereadMs or more ago (or after invalidate()). When a
   * read fails or finds the file empty after an earlier read succeeded, the
   * last token is kept (the file is mid-rotation; the server will say 401 if
   * it really expired) and the file is read again on the next call. Throws
   * only when no read has succeeded yet.
   */
  read(): string {
    if (this.#token !== undefined && performance.now() - this.#readAt < this.#rereadMs) return this.#token;
    let token: string;
    try {
      token = readFileSync(this.#path, 'utf8').trim();
      if (token === '') throw new Error('the file is empty');
    } catch (error) {
      if (this.#token !== undefined) return this.#token;
      throw new Error(`cannot read ${this.#what} from ${this.#path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    this.#token = token;
    this.#readAt = performance.now();
    return token;
  }

  /** Makes the next read() read the file, whatever its age. */
  invalidate(): void {
    this.#readAt = -Infinity;
  }
}
