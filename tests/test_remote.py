"""NNI's remote (SSH) training service, exercised for real: an OpenSSH server bound to
127.0.0.1 on a free port (keys, config and pid file in a temporary directory), a smoke search
whose trials NNI launches over SSH on it, the records checked, the server stopped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tiny_search import PORT, TINY, leftovers

from hofvsr_lib.search import launcher
from hofvsr_lib.search.records import TrialRecords
from hofvsr_lib.search.remote import LocalSSHServer, load_machines

pytestmark = pytest.mark.skipif(LocalSSHServer.unavailable() is not None,
                                reason=str(LocalSSHServer.unavailable()))


def test_search_runs_its_trials_over_ssh(search_root, face_data, tmp_path):
    out = tmp_path / "remote"
    out.mkdir()
    with LocalSSHServer() as server:
        machine = server.machine(Path(sys.executable).parent)
        prov = launcher.run_search("random", TINY, out, face_data, port=PORT + 60,
                                   machines=[machine])
        log = (out / "random" / "nni" / prov["sessions"][-1]["experiment_id"] / "log" /
               "nnimanager.log").read_text()
    rows = list(TrialRecords(out / "random" / "trials.csv").rows.values())
    assert [r["status"] for r in rows] == ["SUCCEEDED"] * 2
    assert all(float(r["final_psnr"]) > 0 and r["source"] == "random" for r in rows)
    assert prov["trial_hosts"] == ["127.0.0.1"] and prov["sessions"][-1]["status"] == "DONE"
    assert "SSH" in log or "ssh" in log  # the trials went through the SSH worker
    assert not leftovers(str(out)), "processes left behind"


def test_machine_list_file(tmp_path):
    path = tmp_path / "machines.yml"
    path.write_text("- host: gpu-1.example.org\n  user: me\n  sshKeyFile: ~/.ssh/id_ed25519\n"
                    "  pythonPath: /srv/hofvsr/.venv/bin\n")
    assert load_machines(path)[0]["pythonPath"] == "/srv/hofvsr/.venv/bin"
    path.write_text("just text")
    with pytest.raises(ValueError, match="machines.yml"):
        load_machines(path)
