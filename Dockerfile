# credwatch service image: `credwatch serve` against an external PostgreSQL.
FROM python:3.11-slim
# RAR archives: rarfile drives a free backend (unar, bsdtar as a fallback); 7z for .7z.
# Hyperscan's shared library screens text with the CPU's SIMD (Debian has it for amd64 only).
RUN apt-get update \
 && apt-get install -y --no-install-recommends unar libarchive-tools p7zip-full \
 && if [ "$(dpkg --print-architecture)" = amd64 ]; then \
      apt-get install -y --no-install-recommends libhyperscan5; fi \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 credwatch \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /var/lib/credwatch credwatch \
 && mkdir -p /srv/drop /srv/dumps /etc/credwatch \
 && chown 10001:10001 /srv/drop
WORKDIR /opt/credwatch
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY feeds ./feeds
COPY notifiers ./notifiers
RUN pip install --no-cache-dir . && rm -rf /root/.cache
# Numeric user: Kubernetes' runAsNonRoot can check it.
USER 10001:10001
ENV CREDWATCH_HOME=/var/lib/credwatch \
    CREDWATCH_METRICS_HOST=0.0.0.0 \
    CREDWATCH_METRICS_PORT=9185 \
    PYTHONDONTWRITEBYTECODE=1
EXPOSE 9185
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9185/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["credwatch"]
CMD ["serve", "--config", "/etc/credwatch/credwatch.toml"]
