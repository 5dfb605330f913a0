# auth-service image. Build: docker build -t auth-service .
# With podman or buildah add --format docker: the OCI format drops the HEALTHCHECK below.
# Runs no migrations: the compose `migrate` service (or your deploy step) runs
# `auth-service db upgrade` before this starts.

# Pinned to the Debian release as well as the Python minor, so a rebuild cannot move the OS.
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /srv/auth-service
COPY pyproject.toml constraints.txt README.md ./
COPY app/ app/
# Editable on purpose: the CLI finds alembic.ini and alembic/ beside the package (app/cli.py,
# ROOT = parent of app/), so the package must stay here rather than move into site-packages.
# Both stages use the same paths, so the venv's link to /srv/auth-service still holds after COPY.
# Every dependency ships a wheel for this platform: no compiler is needed, here or below.
# Optional build secrets, for a network that reaches the package index only through its own CA
# (scripts/container-test passes the host's): a pip.conf and the CA bundle it names, e.g.
#   --secret id=pip.conf,src=FILE --secret id=pip-ca,src=FILE  (pip.conf: cert = /run/secrets/pip-ca)
# Secrets are mounted for this step only, and this stage is not shipped: neither lands in the image.
RUN --mount=type=secret,id=pip.conf,target=/etc/pip.conf \
    --mount=type=secret,id=pip-ca,target=/run/secrets/pip-ca \
    pip install --no-cache-dir -c constraints.txt -e . \
    && python -m compileall -q app


FROM python:3.11-slim-bookworm

# FORWARDED_ALLOW_IPS: uvicorn honours X-Forwarded-For/-Proto only from these addresses.
# 127.0.0.1 (uvicorn's own default) trusts no other host; set it to your proxy's address.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production \
    FORWARDED_ALLOW_IPS=127.0.0.1

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app

WORKDIR /srv/auth-service
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /srv/auth-service /srv/auth-service
COPY alembic.ini ./
COPY alembic/ alembic/

# Numeric, so an orchestrator's runAsNonRoot check can verify it. Files stay root-owned: read-only.
USER 10001:10001
EXPOSE 8000

# slim has no curl. urlopen raises on a refused connection or a non-2xx status: exit 1.
# Port 8000 matches CMD; change both together.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3)"]

ENTRYPOINT ["auth-service"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
