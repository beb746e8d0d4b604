/**
 * @module
 * `deno task serve`: the serving layer. GraphQL at `http://localhost:$PORT/graphql` (GraphiQL in a
 * browser), `/health`, `/ready`, `/metrics` and the dashboard at `/`. SIGINT/SIGTERM stop it
 * cleanly: in-flight requests finish, then the clients close.
 */
import { loadConfigOrExit } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { createServing } from "./server.ts";

if (import.meta.main) {
  const cfg = loadConfigOrExit();
  const logger = createLogger({ name: "serving", level: cfg.logLevel });
  const serving = createServing(cfg, { logger });
  const controller = new AbortController();
  const server = Deno.serve({
    port: cfg.port,
    signal: controller.signal,
    onListen: ({ hostname, port }) =>
      logger.info("serving", {
        graphql: `http://${hostname === "0.0.0.0" ? "localhost" : hostname}:${port}/graphql`,
        mode: cfg.mode,
        outputsDir: cfg.outputsDir,
        keyspace: cfg.cassandraKeyspace,
      }),
  }, serving.app.fetch);
  const stop = () => {
    logger.info("stopping");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  await serving.close();
  logger.info("stopped");
}
