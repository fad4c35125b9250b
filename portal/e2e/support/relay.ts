/**
 * A TCP relay between the browser and the backend. `cut()` closes every connection
 * through it (the SSE stream included) and refuses new ones until `restore()`: a real
 * network drop, as far as the browser can tell.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";

export interface Relay {
  port: number;
  controlPort: number;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  let holding = false;
  let cuts = 0;

  const server: Server = createServer((client) => {
    if (holding) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });

  const control: HttpServer = createHttpServer((req, res) => {
    if (req.method === "POST" && req.url === "/cut") {
      holding = true;
      cuts += 1;
      const open = sockets.size;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ cut: open, cuts }));
    } else if (req.method === "POST" && req.url === "/restore") {
      holding = false;
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ restored: true }));
    } else if (req.url === "/status") {
      res
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify({ holding, open: sockets.size, cuts }));
    } else {
      res.writeHead(404).end();
    }
  });

  const listen = (s: Server | HttpServer) =>
    new Promise<number>((resolve, reject) => {
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const address = s.address();
        resolve(typeof address === "object" && address ? address.port : 0);
      });
    });
  const port = await listen(server);
  const controlPort = await listen(control);
  return {
    port,
    controlPort,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise((r) => server.close(() => r(null))),
        new Promise((r) => control.close(() => r(null))),
      ]);
    },
  };
}
