"""A WSGI application for serving tests: it waits `?seconds=` and answers with its process id,
so that a test can see which worker served a request; or at /frozen, how many objects the
worker has kept out of the garbage collector's sight."""

import gc
import os
import time
from urllib.parse import parse_qs


def application(environ, start_response):
    if environ["PATH_INFO"] == "/frozen":
        body = str(gc.get_freeze_count()).encode()
    else:
        seconds = float(parse_qs(environ.get("QUERY_STRING", "")).get("seconds", ["0"])[0])
        time.sleep(min(seconds, 5))
        body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
