// The fetcher takes the parts of undici it uses from their own files (ensure.ts, signature.ts):
// undici's index requires all of undici (fetch, WebSocket, cookies, caches, mocks) and touches
// globalThis.Headers, which makes Node load its own copy of undici too, some 45 ms before a
// fetch's first byte. undici has no "exports" map, so these are the package's own paths, at the
// version package-lock.json pins; the fetch tests exercise each.
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export default Agent;
}

declare module 'undici/lib/interceptor/redirect.js' {
  import { interceptors } from 'undici';
  const redirect: typeof interceptors.redirect;
  export default redirect;
}

declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  /** What undici's `request(url, options)` calls with `this` = the dispatcher. */
  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}
