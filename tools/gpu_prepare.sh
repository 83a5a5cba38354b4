#!/bin/sh
# Run here once before tools/gpu_check.py goes to a lent GPU machine (see its docstring): what
# that machine lacks for Python 3.12 into .whl/ (facenet-pytorch's wheel; PyAV's wheel
# unpacked and recompressed with xz, 36 -> 25 MB, to fit the device tool's 64 MiB beside the
# tracked files) and the clips it measures into .gpu_cache/videos/, both ignored by git.
set -e
cd "$(dirname "$0")/.."
for d in /.whl/ /.gpu_cache/; do grep -qx "$d" .git/info/exclude || echo "$d" >> .git/info/exclude; done
rm -rf .whl .gpu_cache && mkdir -p .whl .gpu_cache/videos
tmp=$(mktemp -d)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$tmp" av==18.1.0 facenet-pytorch==2.6.0
mv "$tmp"/facenet_pytorch-*.whl .whl/
mkdir "$tmp/av" && (cd "$tmp/av" && unzip -q "$tmp"/av-*.whl && tar cf - . | xz -9 -T2 > "$OLDPWD/.whl/av.tar.xz")
rm -rf "$tmp"
.venv/bin/hofvsr dataset fetch single_face jwp_intro vlog > /dev/null
for clip in single_face.mp4 jwp_intro.mp4 vlog.mp4; do
    cp "${HOFVSR_CACHE:-$HOME/.cache/hofvsr}/videos/$clip" .gpu_cache/videos/
done
du -sh .whl .gpu_cache
