"""Load on the production server: gunicorn on the embedded database, on the loopback only.

    python -m bench.load [--users 8] [--seconds 60] [--answers 0.5]

Loads the demo corpora and users (manage.py load_demo) into a VAR_DIR of its own, serves the
site with gunicorn on 127.0.0.1 with the extractive backend, signs in N users (alice and bob
in turn) and has each send searches and questions back to back for a fixed time. Prints the
requests, throughput, p50, p95 and p99 of each endpoint and the errors, beside the throughput
of retrieve() in one process on the same corpora.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import django
import numpy as np
import requests

BASE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_VAR_DIR = BASE_DIR / "var" / "bench-load"
GUNICORN_CONFIG = BASE_DIR / "deploy" / "gunicorn.conf.py"
DEMO_USERS = ("alice", "bob")
# Each demo user's questions, on the corpora they may read; a search sends the same text.
QUESTIONS = {
    "alice": [
        "When must an Authorised Person notify the Regulator of a change in control?",
        "How long must customer due diligence records be kept?",
        "Who is a Politically Exposed Person?",
        "What must a Relevant Person do before establishing a business relationship?",
        "Who may carry on a Regulated Activity in the ADGM?",
        "When may a Client be classified as a Professional Client?",
        "What did the Court hold in Salman v. United States?",
        "Which law governs the agreement?",
        "May either party terminate the agreement for convenience?",
        "What must a firm report to the Regulator about its auditor?",
    ],
    "bob": [
        "What are the symptoms of hypothyroidism?",
        "How is high blood pressure treated?",
        "What causes kidney stones?",
        "Who is at risk for type 2 diabetes?",
        "Does metformin lower cardiovascular risk?",
        "How is hepatitis C spread?",
        "What tests diagnose anemia?",
        "What are the treatments for asthma?",
    ],
}
# A run is about capacity, not the per-user rates (apps' DEFAULT_THROTTLE_RATES).
UNTHROTTLED = {"API_RATE_ANSWERS": "1000000/min", "API_RATE_SEARCH": "1000000/min"}
UNTHROTTLED["API_RATE"] = "1000000/min"
MAX_REQUESTS_PER_USER = 100_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8, help="concurrent users")
    parser.add_argument("--seconds", type=float, default=60, help="measured time")
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured load first (s)")
    parser.add_argument("--answers", type=float, default=0.5, help="share of questions")
    parser.add_argument(
        "--think", type=float, default=0, help="mean pause of a user between requests (s)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--ceiling-seconds", type=float, default=10, help="retrieve() alone (s)")
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_VAR_DIR)
    parser.add_argument(
        "--database-url", default="", help="serve this database as it is (no load_demo)"
    )
    parser.add_argument(
        "--user", action="append", default=[], metavar="NAME:PASSWORD", help="with --database-url"
    )
    parser.add_argument("--json", type=Path, help="also write every number here")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Sample:
    endpoint: str
    seconds: float
    status: int  # 0: no response
    outcome: str  # the answer's status, or the error


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = {**os.environ, **UNTHROTTLED, "GENERATOR_BACKEND": "extractive", "DEBUG": "0"}
    env |= {"LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1"}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env.pop("DATABASE_URL", None)
        env["VAR_DIR"] = str(args.var_dir)
    return env


def load_demo(env: dict[str, str]) -> dict[str, str]:
    """The demo corpora and users in the run's own database; returns the users' passwords."""
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input"], env=env, check=True, cwd=BASE_DIR)
    # Ingest in this process rather than through a worker: the run needs no db_worker.
    immediate = env | {"TASK_BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    subprocess.run([*manage, "load_demo"], env=immediate, check=True, cwd=BASE_DIR)
    with (Path(env["VAR_DIR"]) / "demo-users.json").open() as passwords:
        return {name: password for name, password in json.load(passwords).items()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], args: argparse.Namespace, log: Path) -> Iterator[tuple]:
    """The site under gunicorn, configured as deployed (deploy/gunicorn.conf.py) but on a free
    loopback port, until the block ends: its URL and the master's process id."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
    command += ["--bind", f"127.0.0.1:{port}", "--no-control-socket", "config.wsgi:application"]
    # Sized as deployed, by the variables the configuration reads (its connections follow its
    # threads).
    env = env | {"WEB_CONCURRENCY": str(args.workers), "WEB_THREADS": str(args.threads)}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        server = subprocess.Popen(command, env=env, cwd=BASE_DIR, stdout=output, stderr=output)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url, server, log)
            yield url, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_up(url: str, server: subprocess.Popen, log: Path, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {server.returncode}); see {log}")
        # A worker still importing the site answers late on a busy machine.
        with contextlib.suppress(requests.ConnectionError, requests.Timeout):
            if requests.get(f"{url}/healthz", timeout=30).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer on {url} within {limit:.0f} s; see {log}")


def sign_in(url: str, username: str, password: str) -> dict[str, str]:
    """The headers of a session signed in through the login form, as a browser would be: its
    cookies, and the CSRF token the API asks of a session's POSTs."""
    session = requests.Session()
    session.get(f"{url}/login/", timeout=30).raise_for_status()
    form = {"username": username, "password": password}
    form["csrfmiddlewaretoken"] = session.cookies["csrftoken"]
    session.post(f"{url}/login/", data=form, timeout=30).raise_for_status()
    if "sessionid" not in session.cookies:
        raise SystemExit(f"could not sign in as {username}")
    cookies = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    return {
        "Cookie": cookies,
        "X-CSRFToken": session.cookies["csrftoken"],
        "Content-Type": "application/json",
    }


def exchange(headers: dict[str, str], url: str, endpoint: str, question: str) -> Sample:
    """One request on a connection of its own (the server closes each after one request),
    through http.client: the client shares the server's CPUs, so it spends as little as it can
    (0.5-0.9 ms a request against 1.7 ms through requests)."""
    body = {"question": question} if endpoint == "answers" else {"query": question}
    server = urlsplit(url)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(server.hostname, server.port, timeout=60)
    try:
        connection.request("POST", f"/api/v1/{endpoint}", json.dumps(body), headers)
        response = connection.getresponse()
        content = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return Sample(endpoint, time.perf_counter() - started, 0, type(exc).__name__)
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    if response.status not in (200, 201):
        return Sample(endpoint, seconds, response.status, f"HTTP {response.status}")
    outcome = json.loads(content).get("status", "ok") if endpoint == "answers" else "ok"
    return Sample(endpoint, seconds, response.status, outcome)


def run_users(url: str, sessions: list, seconds: float, args, seed: int) -> list:
    """Each user sends a request once the last is answered, after a pause of `args.think`
    seconds on average (none by default), until the time is up."""
    deadline = time.monotonic() + seconds
    samples: list[Sample] = []
    lock = threading.Lock()

    def user(index: int) -> None:
        name, headers = sessions[index]
        rng = random.Random(seed + index)
        for _ in range(MAX_REQUESTS_PER_USER):
            if time.monotonic() >= deadline:
                return
            endpoint = "answers" if rng.random() < args.answers else "search"
            sample = exchange(headers, url, endpoint, rng.choice(QUESTIONS.get(name, ["law"])))
            with lock:
                samples.append(sample)
            if args.think:
                time.sleep(
                    min(rng.expovariate(1 / args.think), max(0, deadline - time.monotonic()))
                )

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        list(pool.map(user, range(len(sessions))))
    return samples


def percentiles(seconds: list[float]) -> tuple[float, float, float, float]:
    if not seconds:
        return (0.0, 0.0, 0.0, 0.0)
    p50, p95, p99 = np.percentile(np.array(seconds) * 1000, [50, 95, 99])
    return float(p50), float(p95), float(p99), max(seconds) * 1000


def summary(samples: list[Sample], seconds: float) -> list[dict]:
    rows = []
    for endpoint in ("search", "answers", "all"):
        chosen = [s for s in samples if endpoint in ("all", s.endpoint)]
        p50, p95, p99, slowest = percentiles([s.seconds for s in chosen])
        errors = [s for s in chosen if not 200 <= s.status < 300]
        rows.append(
            {
                "endpoint": endpoint,
                "requests": len(chosen),
                "errors": len(errors),
                "per_second": len(chosen) / seconds,
                "p50_ms": p50,
                "p95_ms": p95,
                "p99_ms": p99,
                "max_ms": slowest,
                "outcomes": dict(Counter(s.outcome for s in chosen)),
            }
        )
    return rows


def retrieve_ceiling(users: list[str], seconds: float) -> dict[str, float]:
    """retrieve()'s throughput in this one process on the users' corpora, at concurrency 1
    and 4, for the same questions: what one process can do without HTTP or answering."""
    from django.contrib.auth import get_user_model

    from apps.retrieval.search import retrieve
    from apps.retrieval.selectors import searchable_corpora

    User = get_user_model()
    work = [
        (question, searchable_corpora(User.objects.get(username=name), None))
        for name in users
        for question in QUESTIONS.get(name, ["law"])
    ]
    retrieve(*work[0])  # the embedding model and BM25 indexes, loaded once
    return {f"c={c}": queries_per_second(retrieve, work, c, seconds) for c in (1, 4)}


def queries_per_second(retrieve, work: list, concurrency: int, seconds: float) -> float:
    deadline = time.monotonic() + seconds
    done = []

    def loop(offset: int) -> None:
        from django.db import connection

        for index in range(offset, offset + MAX_REQUESTS_PER_USER):
            if time.monotonic() >= deadline:
                break
            retrieve(*work[index % len(work)])
            done.append(1)
        connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(loop, range(concurrency)))
    return len(done) / (time.monotonic() - started)


def server_pids(master: int, env: dict[str, str]) -> list[int]:
    """gunicorn's master, and the embedded PostgreSQL's postmaster when the run has its own."""
    pidfile = Path(env.get("VAR_DIR", "-")) / "pgdata" / "postmaster.pid"
    postmaster = (
        [int(pidfile.read_text().split()[0])] if "VAR_DIR" in env and pidfile.exists() else []
    )
    return [master, *postmaster]


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes and all their children, alive now."""
    ticks, total, seen = os.sysconf("SC_CLK_TCK"), 0.0, set()
    while pids:
        pid = pids.pop()
        if pid in seen:
            continue
        seen.add(pid)
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{pid}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
    return total


def table(args, rows: list[dict], ceiling: dict, load: tuple, cpu: tuple, database: bool) -> str:
    """The report; `cpu` is the server's CPU seconds and the load client's, over the run."""
    head = f"{'endpoint':<10}{'requests':>10}{'errors':>8}{'req/s':>9}"
    head += f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    lines = [
        f"Load benchmark: {args.users} users for {args.seconds:g} s after {args.warmup:g} s of "
        f"warm-up, {args.answers:.0%} questions, {args.think:g} s mean pause (gunicorn "
        f"{args.workers} workers x {args.threads} threads, extractive backend, "
        f"{os.cpu_count()} CPUs, "
        f"load average {load[0]:.2f} before, {load[1]:.2f} after)",
        head,
    ]
    for row in rows:
        lines.append(
            f"{row['endpoint']:<10}{row['requests']:>10,}{row['errors']:>8}"
            f"{row['per_second']:>9.1f}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
            f"{row['p99_ms']:>9.1f}{row['max_ms']:>9.1f}"
        )
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(rows[1]["outcomes"].items()))
    lines.append(f"answers by status: {outcomes or 'none'}")
    server, client = (seconds / max(rows[2]["requests"], 1) for seconds in cpu)
    lines.append(
        f"server CPU per request: {server * 1000:.1f} ms (gunicorn"
        f"{' and PostgreSQL' if database else ''}); {os.cpu_count()} idle CPUs would serve at "
        f"most {(os.cpu_count() or 1) / max(server, 1e-9):.0f} req/s of this mix; the load "
        f"client's, on the same CPUs: {client * 1000:.1f} ms"
    )
    lines.append(
        "retrieve() in one process, q/s: "
        + ", ".join(f"{c} {qps:.1f}" for c, qps in ceiling.items())
        + f" (the server's searches and answers together: {rows[2]['per_second']:.1f} req/s)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    args = parse_args(argv)
    env = server_env(args)
    if args.database_url:
        passwords = dict(user.split(":", 1) for user in args.user)
    else:
        passwords = load_demo(env)
    users = [name for name in DEMO_USERS if name in passwords] or list(passwords)
    setup_django(env)
    load_before = os.getloadavg()
    with gunicorn(env, args, args.var_dir / "gunicorn.log") as (url, master):
        names = [users[i % len(users)] for i in range(args.users)]
        sessions = [(name, sign_in(url, name, passwords[name])) for name in names]
        run_users(url, sessions, args.warmup, args, seed=1)
        servers = server_pids(master, env)
        cpu_before, client_before = cpu_seconds(list(servers)), time.process_time()
        samples = run_users(url, sessions, args.seconds, args, seed=2)
        cpu = cpu_seconds(list(servers)) - cpu_before
        client_cpu = time.process_time() - client_before
    load_after = os.getloadavg()
    rows = summary(samples, args.seconds)
    ceiling = retrieve_ceiling(users, args.ceiling_seconds)
    load = (load_before[0], load_after[0])
    report = table(args, rows, ceiling, load, (cpu, client_cpu), database=len(servers) > 1)
    failures = Counter(s.outcome for s in samples if not 200 <= s.status < 300)
    if failures:
        report += "\nerrors: " + ", ".join(f"{k} x{v}" for k, v in failures.most_common())
    print(report, flush=True)
    if args.json:
        numbers = {"rows": rows, "retrieve_qps": ceiling, "server_cpu_seconds": cpu}
        numbers["client_cpu_seconds"] = client_cpu
        args.json.write_text(json.dumps(numbers, indent=2))
    return report


def setup_django(env: dict[str, str]) -> None:
    """Django in this process on the server's database, for the retrieve() ceiling (tests have
    it set up already, on theirs)."""
    from django.apps import apps

    if apps.ready:
        from django.conf import settings

        settings.DEBUG = False
        return
    for name in ("VAR_DIR", "DATABASE_URL"):
        if name in env:
            os.environ[name] = env[name]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings

    # As in production: DEBUG would keep every statement retrieve() runs.
    settings.DEBUG = False


if __name__ == "__main__":
    main()
