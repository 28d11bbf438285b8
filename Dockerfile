# Folio in production: docker build -t folio . && docker run -p 8000:8000 -e FOLIO_SECRET_KEY=... folio
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Pango/HarfBuzz and fonts for WeasyPrint (PDF export), image libraries for Pillow, jpegtran (lossless rotation).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
        libjpeg62-turbo libjpeg-turbo-progs libopenjp2-7 libwebp7 fonts-dejavu-core fonts-noto-core shared-mime-info \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 folio
WORKDIR /app

COPY pyproject.toml README.md ./
COPY app ./app
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
RUN pip install -e . && pybabel -q compile -d app/translations \
    && mkdir -p /app/data /app/uploads && chown folio:folio /app/data /app/uploads

USER folio
ENV FOLIO_ENVIRONMENT=production \
    FOLIO_HOST=0.0.0.0 \
    FOLIO_PORT=8000
VOLUME ["/app/data", "/app/uploads"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')" || exit 1

# Migrations run on every start; they are idempotent.
CMD ["sh", "-c", "folio migrate && exec folio serve"]
