# SETS API and worker image: `sets serve` by default, `sets worker` for the jobs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SETS_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY sets ./sets
RUN pip install --no-cache-dir . && useradd --system --home /data sets && mkdir -p /data \
    && chown sets /data
USER sets
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sets", "serve", "--host", "0.0.0.0", "--port", "8000"]
