// Readiness probes of the components the environment starts: one GET over
// HTTPS, true on 200, false on anything else (refused, timed out, not ready).
import { request, type RequestOptions } from 'node:https';

export function httpsAnswers(url: string, tls: Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => {
      resolve(false);
    });
    req.on('timeout', () => {
      req.destroy();
    });
    req.end();
  });
}
