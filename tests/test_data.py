"""gdlutils.data: resolving, verifying, downloading (from a loopback server) and loading."""
import functools
import hashlib
import http.server
import threading

import pytest

from gdlutils import data


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """An empty GDL_DATA and cache, downloads allowed."""
    monkeypatch.setenv("GDL_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("GDL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GDL_OFFLINE", raising=False)
    return tmp_path


@pytest.fixture
def server(tmp_path):
    """A throwaway HTTP server on 127.0.0.1 serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _register(monkeypatch, path, url, content):
    entry = data.DataFile(path, url, hashlib.sha256(content).hexdigest())
    monkeypatch.setitem(data.REGISTRY, path, entry)
    return entry


def test_data_home_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GDL_DATA", str(tmp_path))
    assert data.data_home() == tmp_path.resolve()
    monkeypatch.delenv("GDL_DATA")
    assert data.data_home().name == "gdlutils"


def test_registry_matches_shared_checksums(shared_data):
    sums = {}
    for line in (shared_data / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.strip()] = digest
    assert set(sums) == set(data.REGISTRY)
    for path, entry in data.REGISTRY.items():
        assert entry.sha256 == sums[path], path
        assert entry.url.startswith("https://") and entry.credit


def test_fetch_finds_and_verifies_offline(shared_data, monkeypatch):
    monkeypatch.setenv("GDL_OFFLINE", "1")
    path = data.fetch("meshes/torus.obj")
    assert path == shared_data.resolve() / "meshes" / "torus.obj"


def test_missing_file_without_gdl_data_names_the_cache_folder_once(tmp_path, monkeypatch):
    monkeypatch.delenv("GDL_DATA", raising=False)
    monkeypatch.delenv("GDL_CACHE", raising=False)
    monkeypatch.setattr(data, "_user_cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setenv("GDL_OFFLINE", "1")
    with pytest.raises(data.DataNotFoundError) as err:
        data.fetch("meshes/spot.obj")
    message = str(err.value)
    assert "the user cache folder" in message and "nor in" not in message
    assert str(tmp_path / "cache" / "meshes" / "spot.obj") in message


def test_fetch_unknown_file_lists_registry():
    with pytest.raises(KeyError, match="meshes/spot.obj"):
        data.fetch("meshes/teapot.obj")


def test_missing_file_offline_names_file_url_and_target(isolated, monkeypatch):
    monkeypatch.setenv("GDL_OFFLINE", "1")
    with pytest.raises(data.DataNotFoundError) as err:
        data.fetch("Planetoid/Cora/raw/ind.cora.x")
    message = str(err.value)
    assert "ind.cora.x" in message
    assert data.REGISTRY["Planetoid/Cora/raw/ind.cora.x"].url in message
    assert str(isolated / "data" / "Planetoid" / "Cora" / "raw" / "ind.cora.x") in message
    assert "GDL_OFFLINE" in message


def test_download_with_checksum(isolated, server, monkeypatch, capsys):
    root, base = server
    content = b"v 0 0 0\n" * 1000
    (root / "thing.obj").write_bytes(content)
    _register(monkeypatch, "meshes/thing.obj", base + "thing.obj", content)
    path = data.fetch("meshes/thing.obj")
    assert path == isolated / "data" / "meshes" / "thing.obj"
    assert path.read_bytes() == content
    assert not list(path.parent.glob(".part-*"))  # no temporary left behind
    assert "thing.obj" in capsys.readouterr().err  # tqdm progress bar on stderr


def test_download_with_wrong_checksum_saves_nothing(isolated, server, monkeypatch):
    root, base = server
    (root / "thing.obj").write_bytes(b"tampered")
    _register(monkeypatch, "meshes/thing.obj", base + "thing.obj", b"original")
    with pytest.raises(data.ChecksumError, match="SHA-256"):
        data.fetch("meshes/thing.obj", progress=False)
    assert not (isolated / "data" / "meshes" / "thing.obj").exists()
    assert not list((isolated / "data" / "meshes").glob("*"))


def test_failed_download_is_a_clear_error(isolated, server, monkeypatch):
    _, base = server
    _register(monkeypatch, "meshes/absent.obj", base + "absent.obj", b"x")
    with pytest.raises(data.DataNotFoundError, match="download failed"):
        data.fetch("meshes/absent.obj", progress=False)


def test_corrupted_local_file_is_reported(isolated, monkeypatch):
    content = b"good"
    _register(monkeypatch, "meshes/thing.obj", "https://example.invalid/thing.obj", content)
    target = isolated / "data" / "meshes" / "thing.obj"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"bad")
    with pytest.raises(data.ChecksumError, match="Delete it"):
        data.fetch("meshes/thing.obj")


def test_read_only_data_home_downloads_into_cache(isolated, server, monkeypatch):
    root, base = server
    content = b"abc" * 10
    (root / "t.obj").write_bytes(content)
    _register(monkeypatch, "meshes/t.obj", base + "t.obj", content)
    readonly = isolated / "ro"
    (readonly / "meshes").mkdir(parents=True)
    (readonly / "meshes").chmod(0o500)
    monkeypatch.setenv("GDL_DATA", str(readonly))
    try:
        import os

        if os.access(readonly / "meshes", os.W_OK):  # root ignores permissions
            pytest.skip("running as a user that can write anywhere")
        path = data.fetch("meshes/t.obj", progress=False)
        assert path == isolated / "cache" / "meshes" / "t.obj"
    finally:
        (readonly / "meshes").chmod(0o700)


@pytest.mark.parametrize(
    "name, nodes, edges, features, classes, split",
    [("Cora", 2708, 10556, 1433, 7, (140, 500, 1000)), ("CiteSeer", 3327, 9104, 3703, 6, (120, 500, 1000))],
)
def test_load_planetoid_matches_published_statistics(shared_data, monkeypatch, name, nodes, edges, features, classes, split):
    monkeypatch.setenv("GDL_OFFLINE", "1")
    d = data.load_planetoid(name)
    assert d.num_nodes == nodes and d.edge_index.shape == (2, edges)
    assert d.x.shape == (nodes, features) and int(d.y.max()) + 1 == classes
    assert (int(d.train_mask.sum()), int(d.val_mask.sum()), int(d.test_mask.sum())) == split
    if name == "Cora":
        assert int(d.x.sum()) == 49216


def test_load_planetoid_rejects_unknown_name():
    with pytest.raises(ValueError, match="Cora"):
        data.load_planetoid("PubMedX")


def test_failed_download_is_raised_without_the_socket_chain(isolated, monkeypatch):
    """A failed download (no network: the name does not resolve) raises gdlutils' own message
    alone: no chained socket traceback in front of it, the cause kept as one line of text."""
    import socket
    import urllib.error

    entry = _register(monkeypatch, "meshes/far.obj", "https://example.invalid/far.obj", b"x")

    def no_network(url, target, expected_sha256, progress=True):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(data, "_download", no_network)
    with pytest.raises(data.DataNotFoundError) as info:
        data.fetch("meshes/far.obj", progress=False)
    err = info.value
    assert err.__cause__ is None and err.__suppress_context__
    message = str(err)
    assert "'meshes/far.obj'" in message and entry.url in message and "GDL_DATA" in message
    assert str(isolated / "data") in message  # the folder it looked in / should be saved to
    assert "gaierror" in message and "Name or service not known" in message
    assert message.splitlines()[-1].startswith("(The download failed: gaierror") and "\n" not in message.splitlines()[-1]
