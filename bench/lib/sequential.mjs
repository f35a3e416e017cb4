// Requests one at a time on one keep-alive connection, each with a fresh sampled traceparent (trace ids start with
// `be4c`, as the load generator's do): every request then takes the same path through the server, so a count of
// the work it did is the same from run to run.
import http from 'node:http';

export function sequentialClient(port, route) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let sent = 0;
  function one() {
    sent++;
    const id = sent.toString(16).padStart(12, '0');
    return new Promise((resolve, reject) => {
      const request = http.get(
        {
          host: '127.0.0.1',
          port,
          path: `/${route}/${sent}`,
          agent,
          headers: { traceparent: `00-be4c${id}0000000000000000-00f067aa0ba902b7-01` },
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            response.statusCode === 200
              ? resolve()
              : reject(new Error(`GET /${route}/${sent} answered ${response.statusCode}`)),
          );
        },
      );
      request.on('error', reject);
    });
  }
  return {
    get sent() {
      return sent;
    },
    async send(count) {
      for (let i = 0; i < count; i++) await one();
    },
    close() {
      agent.destroy();
    },
  };
}
