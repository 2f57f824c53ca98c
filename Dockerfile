# credwatch service image: `credwatch serve` (and workers) against an external PostgreSQL.
FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /var/lib/credwatch credwatch
WORKDIR /opt/credwatch
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY feeds ./feeds
COPY notifiers ./notifiers
RUN pip install --no-cache-dir . && rm -rf /root/.cache
USER credwatch
ENV CREDWATCH_HOME=/var/lib/credwatch
ENTRYPOINT ["credwatch"]
CMD ["serve", "--config", "/etc/credwatch/credwatch.toml"]
