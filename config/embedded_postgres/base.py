from __future__ import annotations

import functools
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from django.db.backends.postgresql import base


@functools.cache
def embedded_server_socket_dir(data_dir: str) -> str:
    # Every process (web, worker, command, test run) takes its own handle on the same data
    # directory; pgserver stops the server when the last handle's process exits.
    with warnings.catch_warnings():
        # pgserver asks platformdirs for XDG_RUNTIME_DIR, unset under CI and in containers.
        warnings.simplefilter("ignore")
        import pgserver

        Path(data_dir).parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    return parse_qs(urlparse(server.get_uri()).query)["host"][0]


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        params["host"] = embedded_server_socket_dir(self.settings_dict["DATA_DIR"])
        return params
