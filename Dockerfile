# syntax=docker/dockerfile:1
#
# One image for the whole platform: auth-service, event-service, ticket-service, payment-service,
# notification-service and gateway in /usr/local/bin, the web app in /srv/web. compose.yaml picks the binary with
# `command:`.
#
#   docker build -t ticketing:latest .
#   docker run --rm -p 3000:3000 ticketing:latest gateway
#
# Stages: chef (toolchain + cargo-chef), planner (dependency recipe), builder (cached dependency
# layer, then the workspace binaries), web (the wasm app), runtime (slim, non-root).

FROM rust:1-bookworm AS chef
RUN cargo install cargo-chef --locked
WORKDIR /app

# The recipe lists only manifests and the lock file: the cook layer below is rebuilt only when
# dependencies change, not on every source edit. The web app has its own workspace and is left out.
FROM chef AS planner
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY crates crates
COPY tests tests
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --workspace --bins --exclude xtask --exclude e2e

# The browser app (Dioxus, wasm32), built by `cargo xtask web --release` into web/dist
# (cargo for wasm32, then wasm-bindgen, then `wasm-opt -Oz` when a binaryen 116+ is on PATH).
# xtask installs what is missing; doing it here keeps the tools in layers reused across builds.
# Debian's binaryen is too old, so wasm-opt comes from npm. wasm-bindgen-cli must match the
# wasm-bindgen version of web/Cargo.lock exactly.
FROM chef AS web
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/* \
 && npm install --global --no-audit --no-fund binaryen@132 \
 && wasm-opt --version \
 && rustup target add wasm32-unknown-unknown
COPY web/Cargo.lock web/Cargo.lock
RUN version="$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' web/Cargo.lock)" \
 && test -n "$version" \
 && cargo install wasm-bindgen-cli --locked --version "$version"
COPY . .
RUN --mount=type=cache,id=ticketing-web-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=ticketing-web-target,target=/app/web/target \
    --mount=type=cache,id=ticketing-xtask-target,target=/app/target \
    cargo xtask web --release \
 && test -f web/dist/index.html

FROM debian:bookworm-slim AS runtime
# curl: the compose health checks; ca-certificates: TLS to MongoDB or NATS when configured.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ticketing \
 && useradd --system --uid 10001 --gid ticketing --home-dir /data --no-create-home \
            --shell /usr/sbin/nologin ticketing \
 && mkdir -p /data /srv/web \
 && chown ticketing:ticketing /data
COPY --from=builder \
     /app/target/release/auth-service \
     /app/target/release/event-service \
     /app/target/release/ticket-service \
     /app/target/release/payment-service \
     /app/target/release/notification-service \
     /app/target/release/gateway \
     /usr/local/bin/
COPY --from=web /app/web/dist/ /srv/web/
# SQLite files go to /data when MONGODB_URI is unset (and .eml files to /data/mail when SMTP_URL
# is); the gateway serves the app from /srv/web.
ENV DATA_DIR=/data \
    WEB_DIST_DIR=/srv/web
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000 3001 3002 3003 3004 3005
CMD ["gateway"]
