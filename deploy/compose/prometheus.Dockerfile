# Prometheus from Debian's package (docs/image.md), for the one-host stack
# (docker-compose.yml): built on the same Debian base as the agent's image, so that the stack
# builds where no registry is reachable (BASE=eunomia-image/base:trixie-1 from
# scripts/image-base.sh). Its configuration is mounted: deploy/prometheus/.
ARG BASE=debian:trixie-slim
FROM ${BASE}
ARG DEBIAN_FRONTEND=noninteractive
# promtool (83 MB) comes as a dependency and the server never runs it.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
 && rm -rf /var/lib/apt/lists/* /usr/bin/promtool \
 && install -d -o prometheus -g prometheus /prometheus
USER prometheus
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
