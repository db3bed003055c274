# relaygate as a container: one stateless process per container, configured only through
# RELAYGATE_* variables (docs/deploy.md). Build: docker build -t relaygate .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /data relaygate
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
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
