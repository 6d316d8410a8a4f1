"""Real, small, deterministic video files for sandbox jobs (PyAV, no numpy).

Every frame is drawn straight into YUV 4:2:0 planes: a gradient background (or the job's
keyframe image), a few moving rectangles and a progress bar. Colours and motion come from a hash
of the prompt and seed, so different prompts give visibly different clips and the same request
always gives the same bytes (single-threaded encoders, bit-exact muxing, fixed options).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import threading
from array import array
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Literal, cast

from videogen.media import decode_base64_image

try:
    import av
except ImportError:  # the "media" extra is missing; require_av() says so where it matters
    av = None  # type: ignore[assignment]  # checked by require_av() before any use

PLANES = 3  # Y, U, V


MEDIA_MISSING = ('the videogen sandbox renders real clips with PyAV, which is not installed: '
                 'pip install "django-videogen[media]"')


class MediaMissing(ImportError):
    """PyAV (the ``media`` extra) is not installed; the message says how to install it."""


def require_av() -> None:
    if av is None:
        raise MediaMissing(MEDIA_MISSING)


@dataclass(frozen=True)
class RenderSpec:
    """Everything that decides the bytes of one rendered clip."""

    width: int
    height: int
    fps: int
    seconds: int
    output_format: str = "MP4"  # "MP4" (H.264) or "WEBM" (VP9)
    seed: int = 0
    prompt: str = ""
    quality: int = 20  # lower = better, mapped onto the encoder's CRF
    first_image: str | None = None  # raw base64 (or data: URI) of the first keyframe
    last_image: str | None = None
    audio: bool = False  # add a tone track (AAC in MP4, Opus in WebM)

    @property
    def extension(self) -> str:
        return "webm" if self.output_format == "WEBM" else "mp4"

    @property
    def content_type(self) -> str:
        return "video/webm" if self.output_format == "WEBM" else "video/mp4"

    @property
    def frame_count(self) -> int:
        return max(1, self.fps * self.seconds)

    def key(self) -> str:
        """A stable name for the cache: the same spec always maps to the same file."""
        canonical = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


class RenderCache:
    """Rendered clips on disk, one file per spec. Encoding runs on a small pool of its own, so
    request threads only wait for the clip they are about to send, never for others."""

    def __init__(self, directory: str, workers: int = 2) -> None:
        self.directory = directory
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox-render")
        self._lock = threading.Lock()
        self._files: dict[str, Future[str]] = {}

    def get(self, spec: RenderSpec) -> Future[str]:
        """A future of the clip's path; the first caller starts the render, later ones share it."""
        key = spec.key()
        with self._lock:
            future = self._files.get(key)
            if future is None or (future.done() and future.exception() is not None):
                path = os.path.join(self.directory, f"{key}.{spec.extension}")
                future = self._pool.submit(render, spec, path)
                self._files[key] = future
            return future

    def clear(self) -> None:
        """Forget and delete every finished clip (the next download renders again)."""
        with self._lock:
            finished = {k: f for k, f in self._files.items() if f.done()}
            for key, future in finished.items():
                del self._files[key]
                if future.exception() is None:
                    with contextlib.suppress(OSError):
                        os.remove(future.result())

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def render(spec: RenderSpec, path: str) -> str:
    """Encode the clip for ``spec`` into ``path`` (written atomically); return ``path``."""
    if os.path.exists(path):
        return path
    partial = f"{path}.{threading.get_ident()}.part"
    try:
        _encode(spec, partial)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise
    os.replace(partial, path)
    return path


def _encode(spec: RenderSpec, path: str) -> None:
    container = av.open(path, "w", format="webm" if spec.output_format == "WEBM" else "mp4",
                        options=_muxer_options(spec))
    try:
        # Bit-exact muxing leaves out random segment ids and version strings.
        # (PyAV's stub types a Flags member's .value as the member, not the int it is.)
        container.flags |= av.container.Flags.bitexact.value  # type: ignore[operator]
        stream = _add_stream(container, spec)
        # Every stream must exist before the first packet is written.
        audio = _add_audio_stream(container, spec) if spec.audio else None
        painter = _Painter(spec, cast(str, stream.codec_context.pix_fmt))  # set by _add_stream
        for index in range(spec.frame_count):
            frame = painter.frame(index)
            frame.pts = index
            frame.time_base = Fraction(1, spec.fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio is not None:
            _encode_tone(container, audio, spec)
    finally:
        container.close()


def _muxer_options(spec: RenderSpec) -> dict[str, str]:
    # Moov first so a browser can start playing the preview before the whole file arrives.
    return {} if spec.output_format == "WEBM" else {"movflags": "+faststart"}


def _add_stream(container: av.container.OutputContainer, spec: RenderSpec) -> av.VideoStream:
    crf = str(max(0, min(51, spec.quality)))
    if spec.output_format == "WEBM":
        stream = container.add_stream("libvpx-vp9", rate=spec.fps, options={
            "deadline": "realtime", "cpu-used": "8", "crf": crf, "b": "0",
            "lag-in-frames": "0", "row-mt": "0", "threads": "1",
        })
    else:
        stream = container.add_stream("libx264", rate=spec.fps, options={
            "preset": "ultrafast", "crf": crf, "threads": "1",
        })
    stream.width, stream.height = spec.width, spec.height
    # x264's 4:2:0 needs even sizes; a few documented sizes (405x540) are odd.
    odd = spec.width % 2 or spec.height % 2
    stream.pix_fmt = "yuv444p" if odd and spec.output_format == "MP4" else "yuv420p"
    stream.codec_context.gop_size = spec.frame_count  # one keyframe: fast and small
    stream.codec_context.time_base = Fraction(1, spec.fps)
    return stream


AUDIO_RATE = 48000


def _add_audio_stream(container: av.container.OutputContainer,
                      spec: RenderSpec) -> av.AudioStream:
    codec: Literal["libopus", "aac"] = "libopus" if spec.output_format == "WEBM" else "aac"
    return container.add_stream(codec, rate=AUDIO_RATE, layout="mono")


def _encode_tone(container: av.container.OutputContainer, stream: av.AudioStream,
                 spec: RenderSpec) -> None:
    """A quiet sine tone as long as the clip, its pitch from the prompt."""
    pitch = 220 + hashlib.sha256(spec.prompt.encode()).digest()[0] * 2
    step = 2 * math.pi * pitch / AUDIO_RATE
    block = stream.codec_context.frame_size or 1024
    total = AUDIO_RATE * spec.seconds
    for start in range(0, total, block):
        count = min(block, total - start)
        samples = array("f", (0.2 * math.sin(step * (start + i)) for i in range(count)))
        frame = av.AudioFrame(format="fltp", layout="mono", samples=count)
        frame.planes[0].update(samples.tobytes() + bytes(frame.planes[0].buffer_size
                                                         - 4 * count))
        frame.sample_rate, frame.pts = AUDIO_RATE, start
        frame.time_base = Fraction(1, AUDIO_RATE)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


@dataclass
class _Box:
    width: int
    height: int
    x: float
    y: float
    dx: float
    dy: float
    colour: tuple[int, int, int]  # Y, U, V


class _Painter:
    """Draws frame ``index`` of the clip into fresh YUV planes."""

    def __init__(self, spec: RenderSpec, pix_fmt: str) -> None:
        self.spec = spec
        self.pix_fmt = pix_fmt
        digest = hashlib.sha256(f"{spec.seed}:{spec.prompt}".encode()).digest()
        self.template = av.VideoFrame(spec.width, spec.height, pix_fmt)
        self.shifts = [_chroma_shift(pix_fmt, i) for i in range(PLANES)]
        self.strides = [plane.line_size for plane in self.template.planes]
        self.first = self._background(spec.first_image, digest)
        self.last = self._background(spec.last_image, digest) if spec.last_image else self.first
        self.boxes = _boxes(digest, spec.width, spec.height)
        self.bar = _colour(digest[29:32])

    def frame(self, index: int) -> av.VideoFrame:
        # First half shows the first keyframe, second half the last one (if any).
        source = self.first if index < self.spec.frame_count // 2 or index == 0 else self.last
        planes = [bytearray(plane) for plane in source]
        progress = (index + 1) / self.spec.frame_count
        for box in self.boxes:
            x, y = _bounce(box.x + box.dx * index, self.spec.width - box.width), _bounce(
                box.y + box.dy * index, self.spec.height - box.height)
            self._fill(planes, int(x), int(y), box.width, box.height, box.colour)
        bar_height = max(2, self.spec.height // 40)
        self._fill(planes, 0, self.spec.height - bar_height,
                   max(2, int(self.spec.width * progress)), bar_height, self.bar)
        frame = av.VideoFrame(self.spec.width, self.spec.height, self.pix_fmt)
        for plane, data in zip(frame.planes, planes, strict=True):
            plane.update(bytes(data))
        return frame

    def _fill(self, planes: list[bytearray], x: int, y: int, w: int, h: int,
              colour: tuple[int, int, int]) -> None:
        for index, (plane, value) in enumerate(zip(planes, colour, strict=True)):
            shift = self.shifts[index]
            stride = self.strides[index]
            x0, x1 = x >> shift, (x + w + shift) >> shift
            row = bytes([value]) * (x1 - x0)
            for line in range(y >> shift, (y + h + shift) >> shift):
                start = line * stride + x0
                plane[start:start + len(row)] = row

    def _background(self, image: str | None, digest: bytes) -> list[bytes]:
        decoded = _decode_image(image, self.spec.width, self.spec.height, self.pix_fmt)
        if decoded is None:
            return self._gradient(digest)
        return [_repack(src, dst.line_size)
                for src, dst in zip(decoded.planes, self.template.planes, strict=True)]

    def _gradient(self, digest: bytes) -> list[bytes]:
        # Luma ramps left to right between two hashed levels; chroma is one hashed tint.
        low, high = 40 + digest[0] % 80, 140 + digest[1] % 100
        u, v = 64 + digest[2] % 128, 64 + digest[3] % 128
        planes = []
        for index, plane in enumerate(self.template.planes):
            if index == 0:
                width = plane.width
                ramp = bytes(low + (high - low) * x // max(1, width - 1) for x in range(width))
                row = ramp + bytes(plane.line_size - width)
            else:
                row = bytes([u if index == 1 else v]) * plane.line_size
            planes.append(row * plane.height)
        return planes


def _repack(plane: av.video.plane.VideoPlane, stride: int) -> bytes:
    """The plane's rows laid out with ``stride`` bytes per row (line sizes can differ)."""
    data, width = bytes(plane), plane.width
    padding = bytes(stride - width)
    return b"".join(data[row * plane.line_size: row * plane.line_size + width] + padding
                    for row in range(plane.height))


def _chroma_shift(pix_fmt: str, plane: int) -> int:
    return 1 if plane and pix_fmt == "yuv420p" else 0


def _boxes(digest: bytes, width: int, height: int) -> list[_Box]:
    boxes = []
    for i in range(3):
        part = digest[4 + i * 8: 12 + i * 8]
        w = max(4, width * (10 + part[0] % 20) // 100)
        h = max(4, height * (10 + part[1] % 20) // 100)
        boxes.append(_Box(
            width=w, height=h,
            x=part[2] / 255 * (width - w), y=part[3] / 255 * (height - h),
            dx=(part[4] % 9 - 4) * max(1, width // 160),
            dy=(part[5] % 9 - 4) * max(1, height // 90),
            colour=_colour(part[5:8]),
        ))
    return boxes


def _colour(raw: bytes) -> tuple[int, int, int]:
    return 32 + raw[0] % 192, 16 + raw[1] % 224, 16 + raw[2] % 224


def _bounce(position: float, span: int) -> float:
    """Fold a straight-line position back into [0, span] so boxes bounce off the edges."""
    if span <= 0:
        return 0.0
    position %= 2 * span
    return position if position <= span else 2 * span - position


def _decode_image(image: str | None, width: int, height: int,
                  pix_fmt: str) -> av.VideoFrame | None:
    raw = decode_base64_image(image) if image else None
    if raw is None:
        return None
    try:
        with av.open(io.BytesIO(raw), "r") as container:
            frame = next(container.decode(video=0))
            return frame.reformat(width=width, height=height, format=pix_fmt)
    except (av.FFmpegError, StopIteration, ValueError):
        return None  # not an image PyAV can read: fall back to the hashed background
