/**
 * Method and path dispatch (RFC 9110 §9): 501 for unknown methods, 405
 * with `Allow` for known ones a route does not support, `HEAD` for every
 * `GET` route, and `OPTIONS` answered from the routes themselves.
 */

import type { Request } from './request.js';
import { type Handler, type Response, TEXT_PLAIN } from './response.js';

/** Methods this server recognises (RFC 9110 §9.3, RFC 5789; MKCOL and MOVE of RFC 4918 §9.3, §9.9). Others get 501. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'MKCOL', 'MOVE',
]);

/** A request handler over {@link Request}. */
export type RequestHandler = Handler<Request>;

/** A method name → its handler. */
export type MethodHandlers = Partial<Record<string, RequestHandler>>;

/**
 * One route: an exact path (`/user-agent`) or, with `prefix: true`, every
 * path under a prefix ending in `/` (`/echo/`). The handler finds the rest
 * of the path with `req.path.slice(route.path.length)`.
 */
export interface Route {
  readonly path: string;
  readonly prefix?: boolean;
  readonly methods: MethodHandlers;
}

/** Transforms a response after the route answered (e.g. content coding). */
export type ResponseFilter = (req: Request, res: Response) => Response | Promise<Response>;

/**
 * Dispatches requests to routes.
 * @param routes tried exact-first, then prefixes in the order given.
 * @param fallback answers, whatever the method, a path that no route
 *   matches (the 404 stage, or a static site root).
 */
export class Router {
  private readonly exact = new Map<string, Route>();
  private readonly prefixes: Route[] = [];
  private readonly allMethods: string;

  constructor(routes: readonly Route[], private readonly fallback: RequestHandler) {
    for (const r of routes) {
      if (r.prefix === true) this.prefixes.push(r);
      else this.exact.set(r.path, r);
    }
    const all = new Set<string>();
    for (const r of routes) for (const m of allowedMethods(r)) all.add(m);
    this.allMethods = [...all].join(', ');
  }

  /** The route for a percent-encoded path: exact, then prefix; `undefined` if none. */
  match(path: string): Route | undefined {
    const exact = this.exact.get(path);
    if (exact !== undefined) return exact;
    for (const r of this.prefixes) if (path.startsWith(r.path)) return r;
    return undefined;
  }

  /** Answers `req`: the route's handler, or 405/501/OPTIONS per RFC 9110 §9. */
  readonly handle = (req: Request): Response | Promise<Response> => {
    const method = req.method;
    if (method !== 'GET' && !KNOWN_METHODS.has(method)) return { status: 501, headers: TEXT_PLAIN, body: `method ${method} is not implemented\n` };
    if (req.targetForm === 'asterisk') {
      // OPTIONS * asks about the server as a whole (RFC 9110 §9.3.7).
      return { status: 204, headers: { Allow: this.allMethods } };
    }
    if (req.targetForm === 'authority') return { status: 501, headers: TEXT_PLAIN, body: 'CONNECT is not implemented\n' };
    const route = this.match(req.path);
    if (route === undefined) return this.fallback(req);
    const handler = route.methods[method] ?? (method === 'HEAD' ? route.methods['GET'] : undefined);
    if (handler !== undefined) return handler(req);
    const allow = allowedMethods(route).join(', ');
    if (method === 'OPTIONS') return { status: 204, headers: { Allow: allow } };
    return { status: 405, headers: { Allow: allow, ...TEXT_PLAIN }, body: `${method} is not allowed here\n` };
  };
}

/** The methods a route answers, `HEAD` and `OPTIONS` included (RFC 9110 §10.2.1). */
export function allowedMethods(route: Route): string[] {
  const methods = Object.keys(route.methods);
  if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
  if (!methods.includes('OPTIONS')) methods.push('OPTIONS');
  return methods;
}

/**
 * Wraps a handler with response filters, applied in order.
 * @returns a handler that stays synchronous when the handler and every
 *   filter answer synchronously (the fast path).
 */
export function withFilters(handler: RequestHandler, filters: readonly ResponseFilter[]): RequestHandler {
  if (filters.length === 0) return handler;
  const applyFrom = (req: Request, res: Response, i: number): Response | Promise<Response> => {
    for (; i < filters.length; i++) {
      const out = filters[i]!(req, res);
      if (out instanceof Promise) {
        const next = i + 1;
        return out.then((r) => applyFrom(req, r, next));
      }
      res = out;
    }
    return res;
  };
  return (req) => {
    const res = handler(req);
    return res instanceof Promise ? res.then((r) => applyFrom(req, r, 0)) : applyFrom(req, res, 0);
  };
}
