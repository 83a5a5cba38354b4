"""Video in and out through PyAV, whose wheels bring their own FFmpeg (with libx264 and AAC):
no system FFmpeg is needed.

* :func:`probe` checks a file before any work and raises :class:`VideoError` (the message names
  the file and the problem) for a missing, empty, still-image, non-video or undecodable file.
* :class:`FrameDecoder` yields RGB uint8 frames, upright: a stream whose display matrix turns
  it (phones store portrait video as landscape pixels plus a 90 or 270 degree matrix) is turned
  as a player shows it, so the detector sees upright faces and the output, upright pixels
  without a matrix, plays as the input did. A stream that breaks off part-way (a truncated
  file) ends the iteration and leaves the reason in :attr:`FrameDecoder.broken`.
* :class:`H264Writer` encodes packed YUV 4:2:0 frames (BT.601 limited range, the colour
  protocol of :mod:`hofvsr_lib.imaging`, tagged as such in the stream) with libx264 to a
  hidden file beside the output; :meth:`~H264Writer.finish` copies the input's audio track
  in (or re-encodes it to AAC when the container cannot hold its codec, or when a damaged
  track's copy would not play), leaving out the packets that do not decode, and only then
  renames the file to its final name, so an interrupted or failed run never leaves a
  half-written output, nor one that does not play.

Why PyAV rather than imageio-ffmpeg (both bundle FFmpeg with libx264): frames go to the encoder
in-process as YUV planes (no pipe to a subprocess, no RGB conversion on the CPU) and the audio
is muxed in the same library, packet by packet.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from hofvsr_lib.data.video import IMAGE_EXTENSIONS, VideoError

OUTPUT_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv")
# audio codecs the MP4/QuickTime muxer takes as they are; others are re-encoded to AAC
MP4_AUDIO = frozenset({"aac", "mp3", "mp3float", "alac", "ac3", "eac3", "opus", "flac"})
_STILL_FORMATS = ("image2", "_pipe", "gif", "apng", "webp")


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video: its size as shown (upright), ``rotation`` the
    display matrix's counter-clockwise turn (0, 90, 180, 270), ``n_frames`` 0: not stated."""

    width: int
    height: int
    fps: Fraction
    n_frames: int
    audio: str | None  # codec of the first audio track, None without one (or not known)
    rotation: int = 0


def quarter_turns(frame: av.VideoFrame) -> int:
    """How many quarter turns counter-clockwise a player gives ``frame`` (its display matrix,
    PyAV's ``rotation``, rounded to a multiple of 90 degrees): 0 to 3."""
    return round(frame.rotation / 90) % 4


def upright(frame: av.VideoFrame) -> np.ndarray:
    """``frame`` as RGB uint8 (H, W, 3), turned as a player shows it."""
    rgb = frame.to_ndarray(format="rgb24")
    turns = quarter_turns(frame)
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def _open_input(path: str | Path) -> av.container.InputContainer:
    """``path`` opened for reading; metadata that is not UTF-8 (a damaged header) is read with
    replacement characters instead of failing the whole file."""
    return av.open(str(path), metadata_errors="replace")


def probe(path: str | Path) -> VideoInfo:
    """The video's size, rate, frame count and audio codec; :class:`VideoError` when the file
    cannot be used as a video."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(path, "no such file")
    if path.stat().st_size == 0:
        raise VideoError(path, "empty file (0 bytes)")
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise VideoError(path, "a still image, not a video")
    try:
        with _open_input(path) as container:
            if not container.streams.video:
                raise VideoError(path, "has no video stream")
            stream = container.streams.video[0]
            fmt = container.format.name
            if any(s in fmt for s in _STILL_FORMATS):
                raise VideoError(path, f"a still image ({fmt}), not a video")
            frames = container.decode(stream)
            first = next(frames, None)
            if first is None:
                raise VideoError(path, "no frame can be decoded (corrupt or truncated file)")
            if next(frames, None) is None:
                raise VideoError(path, "a still image (a single frame), not a video")
            rate = stream.average_rate or stream.guessed_rate or Fraction(25)
            # a track whose codec FFmpeg cannot tell (a damaged header) counts as no audio
            codec = container.streams.audio[0].codec_context if container.streams.audio \
                else None
            audio = codec.name if codec is not None else None
            turns = quarter_turns(first)
            width, height = (first.height, first.width) if turns % 2 else (first.width,
                                                                             first.height)
            return VideoInfo(width, height, Fraction(rate).limit_denominator(1001),
                             int(stream.frames or 0), audio, 90 * turns)
    except av.FFmpegError as err:
        raise VideoError(path, f"cannot be read as a video ({err.strerror or err})") from err


class FrameDecoder:
    """The frames of a video as upright RGB uint8 (H, W, 3) arrays (:func:`upright`), in
    order (FFmpeg's own frame threads decode); ``expected``: the frames the header promises
    (0: unknown), fewer of them count as a stream broken off."""

    def __init__(self, path: str | Path, expected: int = 0) -> None:
        self.path = Path(path)
        self.expected = expected
        self.decoded = 0
        self.broken: str | None = None  # why decoding stopped early, if it did

    def __iter__(self) -> Iterator[np.ndarray]:
        try:
            with _open_input(self.path) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for frame in container.decode(stream):
                    self.decoded += 1
                    yield upright(frame)
        except av.FFmpegError as err:
            self.broken = f"decoding stopped after {self.decoded} frames ({err.strerror or err})"
            return
        if self.decoded < self.expected:
            self.broken = (f"the stream breaks off after {self.decoded} of the "
                           f"{self.expected} frames its header promises")


class H264Writer:
    """An H.264 (yuv420p) video being written to ``path`` (size ``width`` x ``height``, frame
    rate ``fps``); use as a context manager: leaving it with an exception deletes the partial
    file, :meth:`finish` publishes it."""

    def __init__(self, path: str | Path, width: int, height: int, fps: Fraction,
                 crf: int = 18, preset: str = "veryfast") -> None:
        self.path = Path(path)
        check_output(self.path)
        self.partial = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self._container = av.open(str(self.partial), "w")
        self._stream = self._container.add_stream("libx264", rate=fps)
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        self.fps = fps
        self._stream.options = {"crf": str(crf), "preset": preset}
        cc = self._stream.codec_context  # BT.601 limited range, as imaging's rgb_to_ycbcr
        cc.colorspace, cc.color_range = 6, 1  # AVCOL_SPC_SMPTE170M, AVCOL_RANGE_MPEG
        self.frames = 0
        self.audio_dropped = 0  # damaged audio packets of the input left out by finish()

    def write(self, yuv: np.ndarray) -> None:
        """Encode one frame: a packed yuv420p uint8 array (1.5 H, W) (Y, then U, then V)."""
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = self.frames
        self._container.mux(self._stream.encode(frame))
        self.frames += 1

    def finish(self, audio_from: str | Path | None = None) -> Path:
        """Flush the encoder, add the first audio track of ``audio_from`` (a file that has one,
        or None) and move the file to its final name; returns that name."""
        self._container.mux(self._stream.encode(None))
        self._container.close()
        src = self.partial
        if audio_from is not None:
            src, self.audio_dropped = self._add_audio(Path(audio_from))
            self.partial.unlink()
            self.partial = src
        os.replace(src, self.path)
        return self.path

    def _add_audio(self, audio_from: Path) -> tuple[Path, int]:
        """The video with the audio track of ``audio_from`` (a hidden file) and the number of
        its packets left out: copied, or re-encoded when the copy fails or does not decode (a
        damaged track); a VideoError naming ``audio_from`` when neither works."""
        seconds = self.frames / self.fps
        try:
            out, dropped = _with_audio(self.partial, audio_from, seconds)
            if _audio_decodes(out):
                return out, dropped
        except av.FFmpegError:
            pass
        try:
            return _with_audio(self.partial, audio_from, seconds, reencode=True)
        except av.FFmpegError as err:
            raise VideoError(audio_from, "its audio track can be neither copied nor "
                                         f"re-encoded ({err.strerror or err})") from err

    def abort(self) -> None:
        """Drop the partial output."""
        try:
            self._container.close()
        except av.FFmpegError:
            pass
        self.partial.unlink(missing_ok=True)
        self.partial.with_name(self.partial.name + ".audio" + self.path.suffix).unlink(
            missing_ok=True)

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None or self.partial.exists():
            self.abort()
        if isinstance(exc, OSError) and exc.errno and (
                exc.filename is None or Path(exc.filename).name.startswith(self.partial.stem)):
            # a write refused (full disk, permission): named by the output, not by PyAV's
            # hidden file (or by nothing)
            raise OSError(exc.errno, exc.strerror, str(self.path)) from exc


def check_output(path: Path) -> None:
    """A ValueError naming ``path`` when it cannot be written as a video."""
    if path.suffix.lower() not in OUTPUT_EXTENSIONS:
        raise ValueError(f"{path}: unsupported output extension {path.suffix!r}; "
                         f"use one of {', '.join(OUTPUT_EXTENSIONS)}")
    if not path.parent.is_dir():
        raise ValueError(f"{path}: output folder {path.parent} does not exist")


def _audio_decodes(path: Path) -> bool:
    """Whether every packet of the first audio track of ``path`` decodes (no track: no packet
    was left, also true)."""
    with _open_input(path) as c:
        if not c.streams.audio:
            return True
        try:
            for packet in c.demux(c.streams.audio[0]):
                packet.decode()
        except av.FFmpegError:
            return False
    return True


def _with_audio(video: Path, audio_src: Path, seconds: float,
                reencode: bool = False) -> tuple[Path, int]:
    """``video`` (``seconds`` long) remuxed with the first audio track of ``audio_src`` into a
    new hidden file: packets copied in time order, audio cut at the video's end and re-encoded
    to AAC where the container needs it (or with ``reencode``). Every audio packet is decoded
    (checked, when copied): those that do not decode or come out of time order (a damaged
    input) are left out. Returns the file and how many audio packets were left out."""
    out_path = video.with_name(video.name + ".audio" + video.suffix)
    with _open_input(video) as vin, _open_input(audio_src) as ain, \
            av.open(str(out_path), "w") as out:
        v_in, a_in = vin.streams.video[0], ain.streams.audio[0]
        v_out = out.add_stream_from_template(v_in)
        copy = not reencode and (video.suffix.lower() == ".mkv"
                                 or a_in.codec_context.name in MP4_AUDIO)
        if copy:
            a_out = out.add_stream_from_template(a_in)
        else:
            a_out = out.add_stream("aac", rate=a_in.rate, layout=a_in.layout.name)

        def timed(packets, stream):
            for p in packets:
                if p.dts is not None and p.size:
                    yield float(p.dts * p.time_base), id(p), p, stream

        dropped, last = 0, float("-inf")
        for t, _, packet, stream in heapq.merge(timed(vin.demux(v_in), v_out),
                                                timed(ain.demux(a_in), a_out)):
            if stream is a_out and t >= seconds:
                continue  # audio beyond the video's last frame (e.g. with --max-frames)
            if stream is a_out:
                if t <= last:  # out of order (a damaged index): the muxer would refuse it
                    dropped += 1
                    continue
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    dropped += 1
                    continue
                last = t
            if stream is v_out or copy:
                packet.stream = stream
                out.mux(packet)
            else:
                for frame in frames:
                    frame.pts = None
                    out.mux(a_out.encode(frame))
        if not copy:
            out.mux(a_out.encode(None))
    return out_path, dropped
