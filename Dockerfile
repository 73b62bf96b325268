# The bridge (`uns run`) and, with another command, the edge gateway (`uns edge ...`): one image.
#   docker build -t uns-bridge:local .
# See docs/broker.md ("Containers"). Not built in CI (no Docker engine there).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY uns_model uns_model
COPY sparkplug sparkplug
COPY edge edge
COPY odoo_sync odoo_sync
COPY bridge bridge
COPY scenarios scenarios
# Wheels of the project and of every dependency, so that the runtime stage needs no compiler or cache.
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[edge,odoo,fast]"

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels "uns-bridge[edge,odoo,fast]" && rm -rf /wheels
# A user without a shell or home of its own. Its group is 0 and the data directory is group-writable,
# so that compose may run the container as the host user who owns broker/secrets (user: "<uid>:0").
RUN useradd --system --uid 10001 --gid 0 --home-dir /var/lib/uns --no-create-home \
        --shell /usr/sbin/nologin uns \
    && install -d -o 10001 -g 0 -m 2770 /var/lib/uns
USER 10001:0
WORKDIR /var/lib/uns
# numba keeps the compiled DATA reader under the data directory (the install is read-only).
ENV UNS_DATA_DIR=/var/lib/uns \
    NUMBA_CACHE_DIR=/var/lib/uns/.numba-cache \
    UNS_METRICS_HOST=0.0.0.0 \
    UNS_METRICS_PORT=9108 \
    UNS_LOG_JSON=true
EXPOSE 9108
# /healthz answers 503 while the broker (or the UNS publisher) is not connected: urlopen raises.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=4)"]
ENTRYPOINT ["uns"]
CMD ["run"]
