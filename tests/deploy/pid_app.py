"""A WSGI application for serving tests: it waits `?seconds=` and answers with its process id,
so that a test can see which worker served a request."""

import os
import time
from urllib.parse import parse_qs


def application(environ, start_response):
    seconds = float(parse_qs(environ.get("QUERY_STRING", "")).get("seconds", ["0"])[0])
    time.sleep(min(seconds, 5))
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
