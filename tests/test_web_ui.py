"""NNI's web UI (its REST server, which can also stop an experiment) listens on 127.0.0.1 unless
asked otherwise: the listening socket of a real tiny search, the preloaded script on NNI's own
Node.js, and the choice of host."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import nni_node
import psutil
import pytest
from tiny_search import PORT, TINY

from hofvsr_lib.search import launcher
from hofvsr_lib.search.records import TrialRecords

NODE = Path(nni_node.__path__[0]) / "node"
# a server started as NNI's manager starts its REST server (a port, no host)
SERVER_JS = ("const s = require('http').createServer().listen(0, () => "
             "{ console.log(s.address().address); s.close(); });")


def listening_addresses(port: int) -> set[str]:
    return {c.laddr.ip for c in psutil.net_connections("tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port}


def test_search_web_ui_listens_on_localhost_only(search_root, face_data, monkeypatch, capsys):
    seen: list[set[str]] = []
    real_poll = launcher._poll

    def poll(exp, port, *args):
        seen.append(listening_addresses(port))
        return real_poll(exp, port, *args)

    monkeypatch.setattr(launcher, "_poll", poll)
    monkeypatch.delenv(launcher.UI_HOST_ENV, raising=False)
    before = os.environ.get("NODE_OPTIONS")
    prov = launcher.run_search("random", TINY, search_root / "ui", face_data, port=PORT + 70)
    assert seen == [{"127.0.0.1"}]  # not 0.0.0.0 nor ::, NNI's own default
    session = prov["sessions"][-1]
    assert session["status"] == "DONE" and session["ui_host"] == "127.0.0.1"
    rows = TrialRecords(search_root / "ui" / "random" / "trials.csv").rows.values()
    assert [r["status"] for r in rows] == ["SUCCEEDED"] * 2  # trials and tuner reached it
    assert os.environ.get("NODE_OPTIONS") == before
    assert "this machine only (from another: ssh -L" in capsys.readouterr().out


@pytest.mark.parametrize("host, bound", [("127.0.0.1", {"127.0.0.1"}),
                                         ("0.0.0.0", {"::", "0.0.0.0"})])
def test_preloaded_script_on_nnis_node(host, bound):
    before = os.environ.get("NODE_OPTIONS")
    with launcher.ui_listening_on(host):
        got = subprocess.run([str(NODE), "-e", SERVER_JS], capture_output=True, text=True,
                             timeout=30, env=dict(os.environ)).stdout.strip()
    assert got in bound  # "::" or "0.0.0.0" (no IPv6): every interface, NNI's own default
    assert os.environ.get("NODE_OPTIONS") == before


def test_ui_host_choice(monkeypatch):
    monkeypatch.delenv(launcher.UI_HOST_ENV, raising=False)
    assert launcher.ui_host_for(None, None) == "127.0.0.1"
    assert launcher.ui_host_for(None, [{"host": "127.0.0.1"}]) == "127.0.0.1"
    assert launcher.ui_host_for(None, [{"host": "gpu-1.example.org"}]) == "0.0.0.0"
    assert launcher.ui_host_for("127.0.0.1", [{"host": "gpu-1.example.org"}]) == "127.0.0.1"
    monkeypatch.setenv(launcher.UI_HOST_ENV, "0.0.0.0")
    assert launcher.ui_host_for(None, None) == "0.0.0.0"
    with pytest.raises(ValueError, match="10.0.0.5"):
        launcher.ui_host_for("10.0.0.5", None)
