"""NNI's remote (SSH) training service: machines for ``run_search(..., machines=...)``, and a
throw-away OpenSSH server on this host to exercise it (``make remote-check``).

A machine is a dict of NNI ``RemoteMachineConfig`` fields (``host``, ``port``, ``user``,
``ssh_key_file``, ``python_path``: the directory of the project's ``python``). NNI uploads the
trial code, installs nothing but NNI itself (``pip install nni --upgrade`` on the machine: the
project and its dependencies must already be there) and runs each trial's command on a machine
in turn. In cached mode the draft-cube cache must be at the same path on every machine.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .nni_state import free_port

SSHD = Path("/usr/sbin/sshd")


def load_machines(path: str | Path) -> list[dict]:
    """Machines from a YAML or JSON file: a list of ``RemoteMachineConfig`` fields (snake or
    camel case, as in NNI's own config files)."""
    import yaml

    path = Path(path)
    try:
        machines = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the machine list ({exc})") from None
    if isinstance(machines, dict):
        machines = machines.get("machineList") or machines.get("machine_list")
    if not isinstance(machines, list) or not machines:
        raise ValueError(f"{path}: expected a non-empty list of machines (host, user, ...)")
    return machines


def remote_python(machines: list[dict]) -> str:
    """The python a trial runs on the machines: ``<python_path>/python`` (NNI's trial keeper
    does not put ``python_path`` first on the trials' PATH), the same path on every machine."""
    paths = {_snake(m).get("python_path") for m in machines}
    if len(paths) != 1 or None in paths:
        raise ValueError("give every machine the same python_path (the project's venv bin "
                         f"directory); got {sorted(map(str, paths))}")
    return f"{paths.pop().rstrip('/')}/python"


def new_experiment(machines: list[dict] | None):
    """An NNI experiment on the local training service, or the remote one on ``machines``."""
    from nni.experiment import Experiment
    from nni.experiment.config import RemoteMachineConfig

    if not machines:
        return Experiment("local")
    exp = Experiment("remote")
    exp.config.training_service.machine_list = [RemoteMachineConfig(**_snake(m))
                                                for m in machines]
    return exp


def _snake(fields: dict) -> dict:
    out = {}
    for key, value in fields.items():
        out["".join("_" + ch.lower() if ch.isupper() else ch for ch in key)] = value
    return out


class LocalSSHServer:
    """OpenSSH's ``sshd`` bound to 127.0.0.1 on a free port, for the current user, with its
    host key, client key pair, ``authorized_keys``, config and pid file in a temporary
    directory (nothing else touched, except ``/run/sshd``, which sshd needs when run as root).
    A context manager: stopped and its directory removed on exit."""

    def __init__(self, port: int = 2222):
        self.port = free_port(port)
        self.dir = Path(tempfile.mkdtemp(prefix="hofvsr-sshd-"))
        self.user_key = self.dir / "user_key"
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def unavailable() -> str | None:
        """Why a local server cannot run here (None when it can)."""
        if not SSHD.exists():
            return (f"{SSHD} not found: install Debian's openssh-server "
                    "(tools/install_sshd.sh does it as root)")
        if shutil.which("ssh-keygen") is None:
            return "ssh-keygen not found: install openssh-client"
        return None

    def __enter__(self) -> LocalSSHServer:
        reason = self.unavailable()
        if reason:
            raise RuntimeError(reason)
        for key in ("host_key", "user_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            str(self.dir / key)], check=True)
        shutil.copy(self.dir / "user_key.pub", self.dir / "authorized_keys")
        config = self.dir / "sshd_config"
        config.write_text("\n".join([
            "ListenAddress 127.0.0.1", f"Port {self.port}",
            f"HostKey {self.dir / 'host_key'}", f"PidFile {self.dir / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.dir / 'authorized_keys'}", "StrictModes no",
            "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password", "Subsystem sftp internal-sftp", ""]))
        if _is_root():
            Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)],
                                     stdout=subprocess.DEVNULL,
                                     stderr=(self.dir / "sshd.log").open("w"))
        self._wait_listening()
        return self

    def _wait_listening(self, timeout: float = 15.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.dir / 'sshd.log').read_text()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"sshd did not listen on 127.0.0.1:{self.port} in {timeout} s")

    def machine(self, python_path: str | Path) -> dict:
        """This server as an NNI remote machine running ``python_path``'s python."""
        import getpass

        return {"host": "127.0.0.1", "port": self.port, "user": getpass.getuser(),
                "ssh_key_file": str(self.user_key), "python_path": str(python_path)}

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _is_root() -> bool:
    import os

    return os.geteuid() == 0
