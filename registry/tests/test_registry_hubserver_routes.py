"""The Hub test server's routing is one table of (methods, pattern, handler): each endpoint is matched by
exactly one row with the repo, revision and path it names, and anything else is a 404 that names the
method and path. (The endpoints' behaviour is tested through the real client in
test_registry_hubserver.py, test_registry_sync.py and the pull tests.)"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from emergebench_testing.hubserver import ROUTES, HubServer, match_route

OID = "a" * 64

# (method, raw path) -> (handler, repo type, repo id, revision, path)
ROUTED = [
    ("POST", "/api/repos/create", "_create_repo", "model", "", "main", ""),
    ("DELETE", "/api/repos/delete", "_delete_repo", "model", "", "main", ""),
    ("POST", "/api/validate-yaml", "_validate_yaml", "model", "", "main", ""),
    ("GET", "/api/whoami-v2", "_whoami", "model", "", "main", ""),
    ("GET", "/api/datasets/org/data", "_repo_info", "dataset", "org/data", "main", ""),
    ("GET", "/api/models/org/m/revision/refs%2Fpr%2F1", "_repo_info", "model", "org/m", "refs/pr/1", ""),
    ("POST", "/api/datasets/org/data/preupload/main", "_preupload", "dataset", "org/data", "main", ""),
    ("POST", "/api/spaces/org/s/commit/dev", "_commit", "space", "org/s", "dev", ""),
    ("GET", "/api/datasets/org/data/tree/main", "_tree", "dataset", "org/data", "main", ""),
    ("GET", "/api/datasets/org/data/tree/main/sub/a%20b", "_tree", "dataset", "org/data", "main", "sub/a b"),
    ("POST", "/api/datasets/org/data/paths-info/abc1234", "_paths_info", "dataset", "org/data", "abc1234", ""),
    ("GET", "/api/datasets/org/data/commits/main", "_commits", "dataset", "org/data", "main", ""),
    ("GET", "/api/datasets/org/data/refs", "_refs", "dataset", "org/data", "main", ""),
    ("POST", "/api/datasets/org/data/branch/dev", "_create_branch", "dataset", "org/data", "dev", ""),
    ("DELETE", "/api/datasets/org/data/branch/dev", "_delete_branch", "dataset", "org/data", "dev", ""),
    ("PUT", f"/_lfs/{OID}", "_lfs_upload", "model", "", "main", ""),
    ("POST", f"/_lfs/{OID}/verify", "_lfs_verify", "model", "", "main", ""),
    ("POST", "/datasets/org/data.git/info/lfs/objects/batch", "_lfs_batch", "dataset", "org/data", "main", ""),
    ("POST", "/org/m.git/info/lfs/objects/batch", "_lfs_batch", "model", "org/m", "main", ""),
    ("GET", "/datasets/org/data/resolve/main/sub/x.csv", "_resolve", "dataset", "org/data", "main", "sub/x.csv"),
    ("HEAD", "/org/m/resolve/refs%2Fpr%2F2/w.bin", "_resolve", "model", "org/m", "refs/pr/2", "w.bin"),
]

UNROUTED = [
    ("PUT", "/api/whoami-v2"),  # a known path with another method
    ("GET", "/api/datasets/org/data/commit/main"),
    ("GET", f"/_lfs/{OID}/verify"),
    ("POST", "/org/m/resolve/main/x.bin"),
    ("GET", "/api/datasets/org"),  # a repo id needs two segments
    ("GET", "/api/things/org/data"),  # not a repo type
    ("GET", "/datasets/org/resolve/main/x"),  # a dataset without a name is not a model named datasets/org
    ("GET", "/api/x/resolve/main/f"),  # api, _lfs, datasets and spaces are never a model's owner
    ("POST", "/org/m/info/lfs/objects/batch"),  # the LFS endpoint is on the .git URL
]


@pytest.mark.parametrize(("method", "path", "handler", "repo_type", "repo_id", "revision", "file"), ROUTED)
def test_each_endpoint_is_one_row_of_the_table(
    method: str, path: str, handler: str, repo_type: str, repo_id: str, revision: str, file: str
) -> None:
    rows = [route for route in ROUTES if route.pattern.fullmatch(path) and method in route.methods]
    assert [route.handler.__name__ for route in rows] == [handler]
    found = match_route(method, path, b"{}")
    assert found is not None
    route, call = found
    assert route is rows[0]
    assert (call.method, call.repo_type, call.repo_id, call.revision, call.path) == (
        method,
        repo_type,
        repo_id,
        revision,
        file,
    )
    if "_lfs/" in path:
        assert call.oid == OID


def test_every_row_is_reached_by_some_endpoint() -> None:
    reached = {match_route(method, path)[0] for method, path, *_ in ROUTED}  # type: ignore[index]
    assert reached == set(ROUTES)


@pytest.mark.parametrize(("method", "path"), UNROUTED)
def test_anything_else_is_not_routed(method: str, path: str) -> None:
    assert match_route(method, path) is None


def test_an_unrouted_request_is_a_404_naming_method_and_path() -> None:
    with HubServer() as hub:
        for method, path in UNROUTED:
            request = urllib.request.Request(hub.endpoint + path, method=method, data=b"{}")
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(request, timeout=30)
            assert err.value.code == 404, (method, path)
            assert err.value.headers["X-Error-Message"] == f"no such route: {method} {path}"
