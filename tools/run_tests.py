"""The test step of ``make test``: the smoke reproduction (the tests marked ``reproduction``)
runs in a second pytest process beside the rest of the suite, since neither keeps both cores
busy (NNI start-ups, papermill kernels and trial processes wait much of the time). The
reproduction's output is printed when both have finished; the exit status is non-zero when
either failed. Extra arguments go to both pytest processes.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time


def main(argv: list[str]) -> int:
    pytest = [sys.executable, "-m", "pytest", *argv]
    with tempfile.TemporaryFile("w+") as log:
        start = time.perf_counter()
        reproduction = subprocess.Popen(
            [*pytest, "-m", "reproduction", "--durations=5", "-p", "no:cacheprovider"],
            stdout=log, stderr=subprocess.STDOUT)
        suite = subprocess.call([*pytest, "-m", "not reproduction", "--durations=25"])
        print(f"\nsuite finished after {time.perf_counter() - start:.0f} s; waiting for the "
              "smoke reproduction (tests marked reproduction) beside it", flush=True)
        reproduced = reproduction.wait()
        log.seek(0)
        print(log.read(), flush=True)
        print(f"tests finished after {time.perf_counter() - start:.0f} s: suite rc {suite}, "
              f"smoke reproduction rc {reproduced}")
    return 1 if suite or reproduced else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
