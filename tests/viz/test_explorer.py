import io
import re
import socket

import pytest
import torch
from PIL import Image

from gankit.trained import load_generator
from gankit.viz import explorer
from gankit.viz.explorer import create_app, is_loopback, run_watch
from gankit.viz.latent import latent_layout
from tests.viz.watch_records import class_checks, write_run


@pytest.fixture(scope="module")
def client(image_run):
    trained = load_generator(image_run)
    app = create_app(trained, latent_layout(trained), title="tiny")
    return app.test_client()


def _z(client, n=4, seed=0):
    response = client.post("/api/z", json={"n": n, "seed": seed})
    assert response.status_code == 200
    return response.get_json()["z"]


def test_page_and_layout(client):
    page = client.get("/").get_data(as_text=True)
    assert 'id="dim-slider"' in page and 'id="reroll"' in page and 'id="interpolate"' in page
    assert 'id="class-select"' not in page and "code-slider" not in page  # an unconditional run
    layout = client.get("/api/layout").get_json()
    assert layout["latent_dim"] == 100 and layout["z_range"] == [-4.0, 4.0]  # N(0, I) prior: ±4σ
    assert layout["classes"] == []
    assert layout["step"] == 6 and layout["recipe"] == "nsgan"
    assert client.get("/static/explorer.js").status_code == 200


def test_z_is_seeded_and_from_the_prior(client):
    a, b = _z(client, 3, seed=5), _z(client, 3, seed=5)
    assert a == b and a != _z(client, 3, seed=6)
    assert len(a) == 3 and all(len(v) == 100 and all(-4 <= x <= 4 for x in v) for v in a)


def test_generate_returns_a_grid_that_changes_with_z(client):
    z = _z(client, 4)
    first = client.post("/api/generate", json={"z": z})
    assert first.status_code == 200 and first.mimetype == "image/png"
    img = Image.open(io.BytesIO(first.data))
    assert img.size == ((2 + 2 * (28 + 2)) * 2,) * 2  # 2×2 images of 28 px, padding 2, scale 2
    z[0][0] = -z[0][0]
    assert client.post("/api/generate", json={"z": z}).data != first.data


def test_interpolate_returns_one_row(client):
    z = _z(client, 2)
    response = client.post("/api/interpolate", json={"z_a": z[0], "z_b": z[1], "steps": 5})
    assert response.status_code == 200
    width, height = Image.open(io.BytesIO(response.data)).size
    assert (width, height) == ((2 + 5 * 30) * 2, (2 + 30) * 2)


@pytest.mark.parametrize(
    "path,body,message",
    [
        ("/api/generate", {"z": [[0.0] * 99]}, "has 99 values; this generator takes 100"),
        ("/api/generate", {"z": [[5.0] * 100]}, "must lie in [-4, 4] for a normal prior"),
        ("/api/generate", {"z": [[0.0] * 100] * 65}, "at most 64 per request"),
        ("/api/generate", {"z": [["a"] * 100]}, "must be a list of numbers"),
        ("/api/generate", {"z": []}, "non-empty list"),
        ("/api/generate", {"z": [[0.0] * 100], "label": 3}, "not conditioned on a class"),
        ("/api/generate", {"z": [[0.0] * 100], "category": 1}, "no categorical code"),
        ("/api/generate", [1, 2], "send a JSON object"),
        ("/api/z", {"n": 100000}, "n must be an integer in 1..64"),
        ("/api/z", {"n": 2, "seed": -1}, "seed must be an integer"),
        ("/api/interpolate", {"z_a": [0.0] * 100, "z_b": [0.0] * 100, "steps": 1000}, "steps must be"),
        ("/api/interpolate", {"z_a": [0.0] * 100}, "z_b must be a non-empty list"),
    ],
)
def test_bad_requests_get_400_with_a_message(client, path, body, message):
    response = client.post(path, json=body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_other_errors_are_json_too(client):
    assert client.post("/api/generate", data="not json", content_type="application/json").status_code == 400
    huge = client.post("/api/generate", data=b"[" * (3 * 1024 * 1024), content_type="application/json")
    assert huge.status_code == 413 and "error" in huge.get_json()
    assert client.get("/api/nothing").status_code == 404
    assert client.get("/api/generate").status_code == 405
    assert _z(client, 1)  # and it still answers


def test_a_cgan_run_gets_a_class_picker_and_checks_the_class(cgan_run):
    trained = load_generator(cgan_run)
    client = create_app(trained, latent_layout(trained), title="cgan").test_client()
    page = client.get("/").get_data(as_text=True)
    assert '<option value="9">9</option>' in page and "code-slider" not in page
    z = _z(client, 2)
    images = [client.post("/api/generate", json={"z": z, "label": c}) for c in (0, 1)]
    assert all(r.status_code == 200 for r in images) and images[0].data != images[1].data
    for body, message in [
        ({"z": z, "label": 10}, "label must be a class index in 0..9"),
        ({"z": z}, "label must be a class index"),
        ({"z": z, "label": 0, "continuous": [0.0]}, "no continuous codes"),
    ]:
        response = client.post("/api/generate", json=body)
        assert response.status_code == 400 and message in response.get_json()["error"]
    path = client.post("/api/interpolate", json={"z_a": z[0], "z_b": z[1], "steps": 3, "label": 7})
    assert path.status_code == 200


def test_an_infogan_run_gets_code_sliders_over_minus_2_to_2(infogan_run):
    trained = load_generator(infogan_run)
    client = create_app(trained, latent_layout(trained), title="infogan").test_client()
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="code-slider"') == 2 and 'min="-2.0" max="2.0"' in page
    assert "prior U(-1.0, 1.0)" in page and 'id="category-select"' in page and 'id="class-select"' not in page
    layout = client.get("/api/layout").get_json()
    assert layout["latent_dim"] == 62 and layout["categories"] == 10
    assert [c["name"] for c in layout["continuous"]] == ["c2", "c3"]
    z = _z(client, 2)
    by_category = [client.post("/api/generate", json={"z": z, "category": k, "continuous": [0, 0]}) for k in (0, 1)]
    by_code = client.post("/api/generate", json={"z": z, "category": 0, "continuous": [2.0, -2.0]})
    assert all(r.status_code == 200 for r in [*by_category, by_code])
    assert len({by_category[0].data, by_category[1].data, by_code.data}) == 3
    for body, message in [
        ({"z": z, "category": 0, "continuous": [2.5, 0]}, "code c2 must lie in [-2, 2]"),
        ({"z": z, "category": 10, "continuous": [0, 0]}, "category must be in 0..9"),
        ({"z": z, "category": 0, "continuous": [0]}, "continuous takes 2 values"),
        ({"z": z, "category": 0, "continuous": [0, 0], "label": 1}, "not conditioned on a class"),
    ]:
        response = client.post("/api/generate", json=body)
        assert response.status_code == 400 and message in response.get_json()["error"]


def test_loopback_hosts():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    assert explorer.MAX_INTERPOLATION_STEPS >= 2


def test_a_toy_run_is_drawn_as_a_scatter_over_the_data(toy_run):
    trained = load_generator(toy_run)
    client = create_app(trained, latent_layout(trained), reference=torch.randn(100, 2)).test_client()
    page = client.get("/").get_data(as_text=True)
    assert 'value="1000"' in page  # 1,000 points by default
    z = client.post("/api/z", json={"n": 1000, "seed": 0}).get_json()["z"]
    response = client.post("/api/generate", json={"z": z})
    assert response.status_code == 200 and Image.open(io.BytesIO(response.data)).size == (512, 512)


def test_serve_command_errors(image_run, tmp_path, capsys):
    from gankit.cli import main

    assert main(["serve", str(tmp_path)]) == 2
    assert "is not a gankit run" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", str(image_run), "--port", str(taken.getsockname()[1])]) == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


def test_deeply_nested_json_gets_400_not_500(client):
    for body in ('{"z": ' + "[" * 100_000 + "]" * 100_000 + "}", '{"z": ' + "[" * 20 + "]" * 20 + "}"):
        response = client.post("/api/generate", data=body, content_type="application/json")
        assert response.status_code == 400 and "nested too deeply" in response.get_json()["error"]


def test_an_internal_error_never_returns_its_text(client, monkeypatch):
    def broken(*args):
        raise RuntimeError("secret detail of the server")

    monkeypatch.setattr(explorer, "sample_z", broken)
    response = client.post("/api/z", json={"n": 2})
    assert response.status_code == 500 and response.get_json() == {"error": "internal error (see the server's log)"}


@pytest.mark.parametrize(
    "host,status",
    [
        ("localhost", 200),
        ("localhost:8000", 200),
        ("127.0.0.1:8000", 200),
        ("[::1]:8000", 200),
        ("[::1]", 200),
        ("LOCALHOST", 200),
        ("10.1.2.3", 421),
        ("10.1.2.3:8000", 421),
        ("127.0.0.2", 421),
        ("[::1]x", 421),
        ("localhost:", 421),
        ("localhost:80a", 421),
        ("evil.example", 421),
        ("evil.example:8000", 421),
        ("localhost.evil.example", 421),
    ],
)
def test_the_host_header_must_name_this_machine(client, host, status):
    response = client.get("/api/layout", headers={"Host": host})
    assert response.status_code == status
    if status != 200:
        assert "localhost" in response.get_json()["error"]


def test_the_host_may_name_the_bound_address_with_its_port_only():
    names = ("localhost", "127.0.0.1", "::1", "192.168.1.5")
    assert explorer.host_allowed("192.168.1.5:8000", names, 8000) and explorer.host_allowed("[::1]", names, 8000)
    assert not explorer.host_allowed("192.168.1.5:8001", names, 8000)
    assert not explorer.host_allowed("192.168.1.6", names, 8000)
    assert not explorer.host_allowed(None, names) and not explorer.host_allowed("", names)
    assert explorer._host_names("127.0.0.1") == ("127.0.0.1", "::1", "localhost")


@pytest.mark.parametrize(
    "body,message",
    [
        ('{"z": [[' + "9" * 401 + "]]}", "got a 401-digit integer"),
        ('{"z": [[-' + "9" * 5000 + "]]}", "got a 5000-digit integer"),  # past Python's int parsing limit
        ('{"z": [[1e400]]}', "got 1e400"),
        ('{"z": [[NaN]]}', "got NaN"),
        ('{"n": 2, "seed": -Infinity}', "got -Infinity"),
        ('{"n": 2, "seed": 18446744073709551616}', "got a 20-digit integer"),
        ('{"n": 2, "seed": 9223372036854775809}', "got a 19-digit integer"),  # 2^63 + 1
    ],
)
def test_numbers_past_the_bound_get_400_with_one_line(client, body, message):
    path = "/api/z" if '"seed"' in body else "/api/generate"
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert message in error and "at most 2^63" in error and "\n" not in error and len(error) < 100


@pytest.fixture
def served(image_run, monkeypatch):
    """A real explorer server on a free port: first byte within 0.3 s, whole request within 1 s, at most 3
    connections, 3 per client address (the socket timeout of each write stays 5 s)."""
    import threading

    monkeypatch.setattr(explorer, "IDLE_TIMEOUT_S", 0.3, raising=False)
    monkeypatch.setattr(explorer, "READ_DEADLINE_S", 1.0, raising=False)
    monkeypatch.setattr(explorer, "MAX_PER_CLIENT", 3, raising=False)
    monkeypatch.setattr(explorer, "MAX_THREADS", 3)
    trained = load_generator(image_run)
    server = explorer.make_explorer_server(create_app(trained, latent_layout(trained)), "127.0.0.1", 0)
    # a short poll: shutdown() waits for the loop to look (0.5 s at the default, in each test's teardown)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _connect(server, timeout=5.0, source="127.0.0.1"):
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout, source_address=(source, 0))


def _answer(server, request=b"GET /api/layout HTTP/1.1\r\nHost: localhost\r\n\r\n", source="127.0.0.1"):
    """The server's whole answer to one request (b"" when it closed the connection without one)."""
    with _connect(server, source=source) as sock:
        try:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
        except ConnectionError:
            return b""
        return answer


def test_a_body_shorter_than_its_content_length_times_out_quickly(served):
    import time

    with _connect(served) as sock:
        sock.sendall(b"POST /api/z HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n")
        sock.sendall(b"Content-Length: 1000\r\n\r\n{")
        start = time.perf_counter()
        answer = b""
        while chunk := sock.recv(4096):  # the error answer, then the server closes the connection
            answer += chunk
        assert time.perf_counter() - start < 3
    assert answer.startswith(b"HTTP/1.1 400")  # Werkzeug: the client sent less than it announced


def test_connections_beyond_the_thread_cap_are_closed(served):
    import time

    idle = [_connect(served) for _ in range(3)]
    try:
        time.sleep(0.1)  # let the server accept them
        assert _answer(served) == b""  # closed without an answer
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.3)  # the idle sockets' threads end
    assert _answer(served).startswith(b"HTTP/1.1 200")


def test_the_host_must_be_present_and_carry_the_bound_port(served):
    assert _answer(served, b"GET /api/layout HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 421")
    other_port = served.port + 1 if served.port < 65535 else 1
    wrong = f"GET /api/layout HTTP/1.1\r\nHost: localhost:{other_port}\r\n\r\n".encode()
    assert _answer(served, wrong).startswith(b"HTTP/1.1 421")
    right = f"GET /api/layout HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n\r\n".encode()
    assert _answer(served, right).startswith(b"HTTP/1.1 200")


def _can_bind(address: str) -> bool:
    try:
        socket.create_server((address, 0)).close()
    except OSError:
        return False
    return True


needs_loopback_aliases = pytest.mark.skipif(
    not _can_bind("127.0.0.2"), reason="this machine does not route 127.0.0.2 to the loopback interface"
)


class _Dribblers:
    """Slow clients: each opens a connection from its own address and sends a request one byte every 0.1 s
    (a request line that never ends), reconnecting when the server closes it."""

    def __init__(self, server, sources: list[str]):
        import threading

        self.server, self.stop = server, threading.Event()
        self.threads = [threading.Thread(target=self._dribble, args=(s,), daemon=True) for s in sources]

    def _dribble(self, source: str) -> None:
        while not self.stop.is_set():
            try:
                with _connect(self.server, source=source) as sock:
                    sock.sendall(b"G")
                    while not self.stop.wait(0.1):
                        sock.sendall(b"E")
            except OSError:
                self.stop.wait(0.05)

    def __enter__(self):
        import time

        for thread in self.threads:
            thread.start()
        time.sleep(0.2)  # every slot taken
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()


def _first_200(server, within: float, source: str = "127.0.0.1") -> float | None:
    """Seconds until a normal client (retrying each 50 ms) gets a 200, or None if not within ``within``."""
    import time

    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < within:
        if _answer(server, source=source).startswith(b"HTTP/1.1 200"):
            return elapsed
        time.sleep(0.05)
    return None


@needs_loopback_aliases
def test_slow_clients_dribbling_bytes_cannot_starve_a_normal_client(served):
    """Three clients (as many as the server's slots) each send a byte every 0.1 s: under a per-read timeout
    (0.5 s) they would hold the slots forever; under the 1 s total deadline a normal client gets in."""
    with _Dribblers(served, ["127.0.0.2", "127.0.0.3", "127.0.0.4"]):
        elapsed = _first_200(served, within=2.5)
    assert elapsed is not None and 0.2 < elapsed < 2.5


@needs_loopback_aliases
def test_one_client_address_cannot_take_every_slot(served, monkeypatch):
    monkeypatch.setattr(explorer, "MAX_PER_CLIENT", 2, raising=False)
    with _Dribblers(served, ["127.0.0.2"] * 4):
        elapsed = _first_200(served, within=0.5)
    assert elapsed is not None and elapsed < 0.2  # at once: two slots stay free for others


@needs_loopback_aliases
def test_idle_connections_free_their_slots_quickly(served):
    import time

    idle = [_connect(served, source=f"127.0.0.{i}") for i in (2, 3, 4)]
    try:
        time.sleep(0.1)
        elapsed = _first_200(served, within=2.0)  # the socket timeout alone would hold them 5 s
    finally:
        for sock in idle:
            sock.close()
    assert elapsed is not None and elapsed < 0.3 + 0.5


def test_the_page_shows_the_runs_collapse_watch_as_the_report_draws_it(image_run, tmp_path, capsys):
    """Issue 23: the coverage curve and the latest check's histogram and missing classes, under the samples."""
    trained = load_generator(image_run)
    assert run_watch(image_run, "mnist") is None  # a run without checks: no section
    plain = create_app(trained, latent_layout(trained), title="p", watch=None).test_client().get("/")
    assert '<section id="watch">' not in plain.get_data(as_text=True)
    run = write_run(tmp_path / "watched", class_checks(6, collapse_at=4))
    watch = run_watch(run, "mnist")
    page = create_app(trained, latent_layout(trained), title="w", watch=watch).test_client().get("/")
    html = page.get_data(as_text=True)
    assert '<section id="watch">' in html and 'data-watch="coverage">1/10<' in html
    assert re.search(r'data-watch="missing">0, 1, 2, 4, 5, 6, 7, 8, 9<', html)
    titles = re.findall(r'class="curve" data-title="([^"]+)"', html)
    assert titles == ["Coverage of the fixed batch", "latest histogram"]
    assert watch.curves[0][1] in html and watch.histogram in html  # the report's pictures, drawn once
    (run / "metrics.jsonl").write_text('{"step": 1}\nnot json\n')
    assert run_watch(run, "mnist") is None  # a damaged log: served without the section, with a warning
    assert "the explorer leaves out the collapse watch" in capsys.readouterr().err
