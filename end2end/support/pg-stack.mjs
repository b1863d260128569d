// A server instance on PostgreSQL, reached through a relay the tests can
// cut: "the database is down", as the server sees it, without stopping the
// machine's PostgreSQL (which other things may be using).
//
//   RELAY_PORT     where the relay listens (the server's DATABASE_URL port)
//   CONTROL_PORT   HTTP: POST /cut, POST /restore, GET /healthz
//   PG_TARGET      the real server (default 127.0.0.1:5432)
//   E2E_PG_DB      database to (re)create for this run
//
// Everything else in the environment is passed to the server binary, whose
// path is the first argument.
import { spawn, execFileSync } from "node:child_process";
import net from "node:net";
import http from "node:http";

const relayPort = Number(process.env.RELAY_PORT);
const controlPort = Number(process.env.CONTROL_PORT);
const [targetHost, targetPort] = (process.env.PG_TARGET ?? "127.0.0.1:5432").split(":");
const database = process.env.E2E_PG_DB;

for (const sql of [`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`, `CREATE DATABASE ${database}`]) {
  execFileSync("psql", ["-h", targetHost, "-p", targetPort, "-U", "postgres", "-qc", sql], {
    stdio: "inherit",
  });
}

let up = true;
const live = new Set();
const relay = net.createServer((client) => {
  if (!up) return client.destroy();
  const server = net.connect(Number(targetPort), targetHost);
  const pair = [client, server];
  live.add(pair);
  const close = () => {
    client.destroy();
    server.destroy();
    live.delete(pair);
  };
  client.on("error", close).on("close", close);
  server.on("error", close).on("close", close);
  client.pipe(server);
  server.pipe(client);
});
relay.listen(relayPort, "127.0.0.1");

http
  .createServer((req, res) => {
    if (req.method === "POST" && req.url === "/cut") {
      up = false;
      for (const [a, b] of live) {
        a.destroy();
        b.destroy();
      }
      live.clear();
    } else if (req.method === "POST" && req.url === "/restore") {
      up = true;
    }
    res.end(up ? "up" : "cut");
  })
  .listen(controlPort, "127.0.0.1");

const child = spawn(process.argv[2], [], { stdio: "inherit", env: process.env });
const stop = () => child.kill("SIGTERM");
process.on("SIGTERM", stop).on("SIGINT", stop);
child.on("exit", (code) => process.exit(code ?? 0));
