# relaygate as a container: one stateless process per container, configured only through
# RELAYGATE_* variables (docs/deploy.md). Build: docker build -t relaygate .
FROM python:3.11-slim AS build
WORKDIR /src
# uv (pinned by hash) installs exactly the runtime packages uv.lock pins, into /opt/relaygate.
COPY scripts/uv-requirements.txt ./
RUN pip install --no-cache-dir --require-hashes -r uv-requirements.txt
ENV UV_PROJECT_ENVIRONMENT=/opt/relaygate UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-install-project --no-cache
COPY src ./src
RUN uv sync --locked --no-editable --no-cache

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /data relaygate
COPY --from=build /opt/relaygate /opt/relaygate
ENV PATH=/opt/relaygate/bin:$PATH
USER relaygate
# /data holds the SQLite file and the generated master key when no database or key is given;
# with PostgreSQL and RELAYGATE_MASTER_KEY it stays empty and the container is stateless.
ENV RELAYGATE_HOME=/data PYTHONUNBUFFERED=1
EXPOSE 8080
# relaygate drains in-flight requests and streams on SIGTERM (RELAYGATE_DRAIN_TIMEOUT).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/health', timeout=2)"]
ENTRYPOINT ["relaygate"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
