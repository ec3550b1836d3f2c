// node:http for the operator, loaded with require rather than import. An ES
// import of node:http materialises the module's whole namespace, including
// the WebSocket and EventSource getters, which load undici (fetch's HTTP
// stack): about 8 MiB of resident memory for code the operator never runs.
// Types still come from `import type`, which costs nothing at run time.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const nodeHttp = require('node:http') as typeof import('node:http');
