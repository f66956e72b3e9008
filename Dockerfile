# meshgate's image, built from requirements.lock: every Python package pinned with its hashes,
# nothing resolved or downloaded at run time. `meshgate manifests` renders the Deployment that
# runs it (image ghcr.io/meshgate/meshgate:<version>; build with
# `docker build -t ghcr.io/meshgate/meshgate:$(python -c 'import meshgate; print(meshgate.__version__)') .`).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The lock first: its layer is reused until the lock changes.
COPY requirements.lock ./
RUN python -m venv /opt/meshgate \
 && /opt/meshgate/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
# meshgate itself, with the setuptools pinned in the lock (no build isolation: nothing fetched).
RUN /opt/meshgate/bin/pip install --no-deps --no-build-isolation . \
 && /opt/meshgate/bin/pip check

FROM python:3.11-slim
COPY --from=build /opt/meshgate /opt/meshgate
# A numeric non-root user: the Pod's runAsNonRoot can check it, and runAsUser matches it.
RUN groupadd --system --gid 65532 meshgate \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin meshgate
ENV PATH=/opt/meshgate/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 65532:65532
# xDS (gRPC) and the debug port (/healthz, /readyz, /metrics).
EXPOSE 18000 18001
ENTRYPOINT ["meshgate"]
# The Deployment gives the arguments (`serve --kubernetes ...`); alone, the image says how to use it.
CMD ["--help"]
