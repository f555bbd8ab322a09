import type http from 'node:http';
import net from 'node:net';

/**
 * Stops accepting connections and calls `done` once every open connection has ended.
 *
 * The subtle part is keep-alive. http.Server#close() destroys idle keep-alive connections at
 * once, but a reverse proxy keeps a pool of them and may be writing a request into one at that
 * very moment: it gets a reset and, for a POST it must not retry, answers 502 to the user.
 * With `waitForProxy` (TRUST_PROXY is set) idle connections are left to the proxy instead:
 * every response from now on says `Connection: close`, so a reused connection is closed just
 * after its answer, and one never reused is closed by the proxy's idle timeout (configure it
 * below server.keepAliveTimeout, 5 s; Node closes it then at the latest). Without a proxy,
 * idle connections are closed at once: browsers retry a request on a reused connection that
 * fails, and `npm run dev` restarts without waiting for one.
 */
export function closeGracefully(
  server: http.Server,
  { waitForProxy }: { waitForProxy: boolean },
  done: () => void,
) {
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader('Connection', 'close');
  });
  // net.Server's close only stops listening; http.Server's also cuts idle connections.
  if (waitForProxy) net.Server.prototype.close.call(server, () => done());
  else server.close(() => done());
}
