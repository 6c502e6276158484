"""Load test of the web demo: N concurrent gradio_client users, each sending M short sentences to /translate.

    .venv/bin/python benchmarks/load_test.py [--users 16] [--requests 25] [--model DIR] [--out benchmarks/load.json]
    .venv/bin/python benchmarks/load_test.py --users 32 --requests 25 --news 100  # every other request: news
    .venv/bin/python benchmarks/load_test.py --users 1 --requests 30 --sentence 他说我们明天早上八点在北京火车站见面吧。

Starts ``app.py`` (with the Python that runs this script) on a free loopback port, waits until it answers,
drives it, and prints p50/p95 latency, requests/s and failures.  Not part of the test suite (it measures; it
does not check).

The users are asyncio tasks of this one process, each calling Gradio's HTTP API as ``gradio_client`` does (POST
``/gradio_api/call/translate``, then read the event stream of the result) with ``httpx``, each user in its own
session, as a browser tab and a ``gradio_client.Client`` keep one (Gradio builds a session's state on its first
request, a cost that grows with the size of the UI).  ``--gradio-client``
drives the server with one ``gradio_client.Client`` per user in threads instead: on a 2-core machine those clients
took more CPU than the server they measured (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWS = Path(os.environ.get("S2S_SHARED", ROOT.parent / "shared")) / "data" / "dev" / "newstest2017.zh"
SENTENCES = [
    "我喜欢吃苹果。",
    "今天天气很好。",
    "你叫什么名字？",
    "我明天去北京。",
    "他们每天都看书。",
    "这家餐厅的菜很好吃。",
    "我们下午去公园散步吧。",
    "请把窗户关上。",
    "她在学习中文。",
    "火车几点出发？",
    "我的朋友住在上海。",
    "这个问题很难回答。",
    "周末你有什么打算？",
    "他昨天买了一辆新车。",
    "医生说我需要多休息。",
    "图书馆八点开门。",
    "我们一起吃晚饭吧。",
    "外面在下雨。",
    "这本书是谁写的？",
    "我每天早上喝咖啡。",
    "孩子们在院子里玩。",
    "请说慢一点。",
    "我忘了带钥匙。",
    "会议推迟到明天了。",
    "飞机晚点了两个小时。",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drive_with_httpx(url: str, sentences: list[str], users: int, requests: int) -> tuple[list, list, float]:
    """``users`` asyncio tasks, each sending ``requests`` sentences one after another; returns the latencies of the
    answered ones, the failures and the wall time."""
    import httpx

    api = f"{url}gradio_api/call/translate"
    # The raw API wants every input: the endpoint's own defaults after the text, as gradio_client sends them.
    params = httpx.get(f"{url}gradio_api/info").json()["named_endpoints"]["/translate"]["parameters"]
    defaults = [p["parameter_default"] for p in params[1:]]

    async def call(client, text: str, session: str) -> str:
        r = await client.post(api, json={"data": [text, *defaults], "session_hash": session})
        r.raise_for_status()
        event = None
        async with client.stream("GET", f"{api}/{r.json()['event_id']}") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = json.loads(line.split(":", 1)[1])
                    if event == "error" or not isinstance(data, list) or not data or not isinstance(data[0], str):
                        raise RuntimeError(f"{event}: {data}")
                    return data[0]
        raise RuntimeError("the event stream ended without a result")

    async def run() -> tuple[list, list, float]:
        latencies, failures = [], []
        limits = httpx.Limits(max_connections=2 * users, max_keepalive_connections=2 * users)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            await call(client, sentences[0], "warm-up")

            async def user(k: int):
                session = f"user-{k}-{os.getpid()}"  # one session per user, as a browser tab and gradio_client keep
                for i in range(requests):
                    text = sentences[(k + i) % len(sentences)]
                    t0 = time.perf_counter()
                    try:
                        ok = bool(await call(client, text, session))
                        (latencies if ok else failures).append(time.perf_counter() - t0 if ok else "empty")
                    except Exception as e:  # noqa: BLE001 - counted, reported
                        failures.append(repr(e))

            t0 = time.perf_counter()
            await asyncio.gather(*(user(k) for k in range(users)))
            return latencies, failures, time.perf_counter() - t0

    return asyncio.run(run())


def drive_with_gradio_client(url: str, sentences: list[str], users: int, requests: int) -> tuple[list, list, float]:
    """The same load from one ``gradio_client.Client`` per user, each in its own thread."""
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(users)]
    clients[0].predict(sentences[0], api_name="/translate")  # warm up
    latencies, failures, lock = [], [], threading.Lock()
    start = threading.Barrier(users + 1)

    def user(k: int):
        start.wait()
        for i in range(requests):
            text = sentences[(k + i) % len(sentences)]
            t0 = time.perf_counter()
            try:
                out = clients[k].predict(text, api_name="/translate")
                ok = isinstance(out, str) and bool(out)
            except Exception as e:  # noqa: BLE001 - counted, reported
                ok, out = False, repr(e)
            dt = time.perf_counter() - t0
            with lock:
                (latencies if ok else failures).append(dt if ok else out)

    threads = [threading.Thread(target=user, args=(k,)) for k in range(users)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return latencies, failures, time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=16)
    p.add_argument("--requests", type=int, default=25, help="requests per user")
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--out", help="also write the figures as JSON here")
    p.add_argument("--sentence", help="send only this sentence (e.g. one user's latency for one sentence)")
    p.add_argument(
        "--news",
        type=int,
        default=0,
        help="every other request one of the first N newstest2017 sentences (news length)",
    )
    p.add_argument("--gradio-client", action="store_true", help="users as gradio_client threads (a heavier client)")
    p.add_argument("--threads", type=int, help="the server's PyTorch threads (seq2seq-demo --threads; default its own)")
    args = p.parse_args(argv)
    sentences = [args.sentence] if args.sentence else SENTENCES
    if args.news:
        news = NEWS.read_text(encoding="utf-8").splitlines()[: args.news]
        sentences = [x for pair in zip(SENTENCES * (len(news) // len(SENTENCES) + 1), news) for x in pair]
    port = free_port()
    cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(port)] + (["--model", args.model] if args.model else [])
    cmd += ["--threads", str(args.threads)] if args.threads else []
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    print("load_test: app.py did not start", file=sys.stderr)
                    return 2
                time.sleep(0.5)
        drive = drive_with_gradio_client if args.gradio_client else drive_with_httpx
        latencies, failures, wall = drive(url, sentences, args.users, args.requests)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    result = {
        "users": args.users,
        "requests_per_user": args.requests,
        "sentence": args.sentence,
        "news": args.news,
        "ok": len(latencies),
        "failures": len(failures),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(q[94], 3),
        "requests_per_s": round(len(latencies) / wall, 2),
        "wall_s": round(wall, 1),
    }
    print(json.dumps(result))
    if failures:
        print(f"first failure: {failures[0]}", file=sys.stderr)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
