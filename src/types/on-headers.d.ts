// on-headers ships no types; its one function is all we use.
declare module 'on-headers' {
  import type { ServerResponse } from 'node:http';
  function onHeaders(res: ServerResponse, listener: (this: ServerResponse) => void): void;
  export = onHeaders;
}
