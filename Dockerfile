# syntax=docker/dockerfile:1
# One image for every workload: the Kubernetes manifests (infra/k8s) pick the command
# (`deno task process|serve|batch|migrate|dlq|lag`). Debian base: the CronJobs use sh and GNU date,
# and DuckDB's native addon needs glibc. BASE_IMAGE is only overridden where Docker Hub is out of
# reach, with a stand-in built by infra/docker/local-base.sh (see docs/OPERATIONS.md).
ARG BASE_IMAGE=denoland/deno:debian-2.9.6
FROM ${BASE_IMAGE}

ENV DENO_DIR=/deno-dir \
    DENO_NO_UPDATE_CHECK=1 \
    DENO_NO_PROMPT=1 \
    HOME=/tmp
WORKDIR /app
# Build time only (not kept in the image): where `deno install` looks for CA certificates. Deno's
# default; a build behind a TLS-intercepting proxy passes `mozilla,system` and mounts the host's
# /etc/ssl/certs (docs/OPERATIONS.md).
ARG DENO_TLS_CA_STORE=mozilla

# 1. Dependencies only: this layer is rebuilt when deno.json or deno.lock change, not on code
#    changes. Installs every npm package of the import map into node_modules and DENO_DIR.
COPY deno.json deno.lock ./
RUN deno install --frozen

# 2. The code, then the modules each entry point reaches (type-checked once at build time, so a
#    broken build fails here and not in a pod).
COPY . .
RUN deno install --frozen --entrypoint \
      processors/main.ts serving/main.ts batch/main.ts infra/migrate.ts ops/dlq.ts ops/lag.ts \
 && deno check processors/main.ts serving/main.ts batch/main.ts infra/migrate.ts ops/dlq.ts ops/lag.ts

# Files stay root-owned and read-only for the runtime user; the pods also mount the root
# filesystem read-only, with an emptyDir at /tmp.
USER deno
EXPOSE 8000 9999
CMD ["deno", "task", "serve"]
