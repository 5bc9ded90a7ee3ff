# syntax=docker/dockerfile:1
# Tessera: multi-stage build. The runtime image holds only the two binaries, libpq and CA roots,
# and runs as the unprivileged user `tessera`.
#
#   docker build -t tessera .
#   docker run -p 8080:8080 -e TESSERA_ISSUER=http://localhost:8080 -v tessera-data:/var/lib/tessera tessera
#   docker run --rm -v tessera-data:/var/lib/tessera --entrypoint tessera-admin tessera client list

FROM rust:1.95-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p tessera-identity -p tessera-admin \
    && install -D -m 0755 target/release/tessera /out/tessera \
    && install -D -m 0755 target/release/tessera-admin /out/tessera-admin

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system tessera \
    && useradd --system --gid tessera --home-dir /var/lib/tessera --shell /usr/sbin/nologin tessera \
    && install -d -o tessera -g tessera -m 0750 /var/lib/tessera
COPY --from=build /out/tessera /out/tessera-admin /usr/local/bin/

ENV TESSERA_BIND=0.0.0.0:8080 \
    TESSERA_DATABASE_URL=sqlite:///var/lib/tessera/tessera.db
USER tessera
WORKDIR /var/lib/tessera
VOLUME ["/var/lib/tessera"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["tessera", "health", "http://127.0.0.1:8080"]
ENTRYPOINT ["tessera"]
CMD ["serve"]
