"""gunicorn for the site (deploy/compose.yaml, deploy/k8s/web.yaml): threads rather than
processes, because each process holds its own embedding model (~0.9 GB) and BM25 indexes
(776 MB at a million chunks); logs as JSON lines, as the site's own are."""

import os

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads share a process's models; an answer streams for seconds and holds one.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 120
graceful_timeout = 30
# A worker takes a connection only when it has a thread free for it, and a connection lasts
# one request, so each request goes to a worker that can start it at once; the others wait in
# the listening socket's queue for the first thread free in any worker. Kept alive, a
# connection (a client's, or one the proxy pools) would stay with the worker that accepted
# it, however busy: with 8 clients, 2 workers and 4 threads, one worker often held 5 or 6 of
# them and the searches p95 was 175-195 ms against 135-146 ms this way (python -m bench.load).
keepalive = 0
worker_connections = threads
worker_tmp_dir = "/tmp"
# The site logs each request itself, with its id and without query strings.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}


def post_worker_init(worker):
    import gc

    # Load the embedding model before the first request, not during it (about 8 s).
    from apps.corpora.embedding import get_embedder

    try:
        get_embedder()
    except Exception:
        worker.log.exception("the embedding model did not load; /readyz will say why")
    # What the worker holds now (the site and its models: some 670,000 objects) lives as long
    # as the worker: out of the garbage collector's sight, a full collection no longer stops
    # every thread of the worker for about 0.4 s to walk it again.
    gc.freeze()
