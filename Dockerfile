# syntax=docker/dockerfile:1
# mistctl: the provisioning service (`mistctl serve`) and its workers (`mistctl worker`) in one image.
#   docker build -t mistctl .
#   docker run --env-file .env -p 8000:8000 mistctl            # the service; see compose.yaml and deploy/k8s
# Stage 1 builds the wheel and a virtualenv; stage 2 is python:slim with that venv only, run as uid 10001.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/mistctl
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/mistctl/bin/pip install --no-cache-dir . \
 && /opt/mistctl/bin/mistctl --help > /dev/null

FROM python:${PYTHON_VERSION}-slim AS runtime
LABEL org.opencontainers.image.title="mistctl" \
      org.opencontainers.image.description="Plan, provision and operate Juniper Mist networks as code"
ENV PATH=/opt/mistctl/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MISTCTL_STATE=redis://redis:6379/0
RUN groupadd --system --gid 10001 mistctl \
 && useradd --system --uid 10001 --gid mistctl --home-dir /home/mistctl --create-home mistctl
COPY --from=build /opt/mistctl /opt/mistctl
WORKDIR /home/mistctl
USER 10001:10001
EXPOSE 8000
# /healthz needs no credentials; python is in the image (no curl in slim)
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["mistctl"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
