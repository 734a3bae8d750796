"""`VirtualCamera`: the restyled picture as a webcam other programs can pick (video calls, OBS), via pyvirtualcam.

OUTPUT `virtualcam` (the first loopback device) or `virtualcam:/dev/video10`. On Linux it needs the v4l2loopback
kernel module (`sudo modprobe v4l2loopback`); on Windows and macOS, OBS's virtual camera. The optional extra
`vidtoon[virtualcam]` installs pyvirtualcam. A camera carries no sound: the input's is left out (said once).
"""

from __future__ import annotations

import logging
from fractions import Fraction

import av
import numpy as np

from vidtoon.errors import OutputError, UsageError

log = logging.getLogger(__name__)

PREFIX = "virtualcam"


def is_virtual_camera(output: str) -> bool:
    return output == PREFIX or output.startswith(PREFIX + ":")


def check_virtual_camera(output: str) -> None:
    """Cheap: pyvirtualcam is installed.

    Raises:
        UsageError: it is not, with what to install.
    """
    try:
        import pyvirtualcam  # noqa: F401
    except ImportError:
        raise UsageError(f"{output}: a virtual camera needs pyvirtualcam", hint="pip install 'vidtoon[virtualcam]'") from None


class VirtualCamera:
    """Sends H×W×3 uint8 RGB frames of one size to a virtual camera at `fps` (the writer interface of `LiveWriter`).

    Raises:
        UsageError: pyvirtualcam is missing. OutputError: no loopback device (or the one named does not exist).
    """

    def __init__(self, output: str, *, width: int, height: int, fps: Fraction):
        check_virtual_camera(output)
        self.output = output
        self.fps = fps
        self._device = output.split(":", 1)[1] if ":" in output else None
        self._camera = self._open(width, height)
        self.frames_written = 0
        self._sound_said = False
        self.closed = False

    def _open(self, width: int, height: int):
        import pyvirtualcam

        try:
            return pyvirtualcam.Camera(width, height, float(self.fps), fmt=pyvirtualcam.PixelFormat.RGB, device=self._device)
        except RuntimeError as exc:
            raise OutputError(
                f"{self.output}: no virtual camera to send to ({exc})",
                hint="on Linux: sudo modprobe v4l2loopback (then name it, e.g. virtualcam:/dev/video10); elsewhere: OBS's virtual camera",
            ) from None

    def add_sound(self, packet: av.Packet, time: Fraction) -> None:
        if not self._sound_said:
            log.warning("%s: a camera carries no sound; the input's is left out", self.output)
            self._sound_said = True

    def write(self, rgb: np.ndarray, time: Fraction) -> None:
        """Send one H×W×3 uint8 RGB frame. The camera was opened at the input's coded size (to fail early): the first
        frame's own size (a display rotation swaps width and height) opens it again at that size.

        Raises:
            OutputError: a later frame of another size (a camera keeps one size).
        """
        height, width = rgb.shape[:2]
        if (width, height) != (self._camera.width, self._camera.height):
            if self.frames_written:
                raise OutputError(
                    f"{self.output}: a {width}×{height} frame after {self._camera.width}×{self._camera.height} ones",
                    hint="a virtual camera keeps the size of its first frame",
                )
            self._camera.close()
            self._camera = self._open(width, height)
        self._last = np.ascontiguousarray(rgb)
        self._camera.send(self._last)
        self.frames_written += 1

    def repeat(self, time: Fraction) -> None:
        """Send the last frame again (a dropped input frame's place)."""
        self._camera.send(self._last)
        self.frames_written += 1

    def close(self) -> str:
        if not self.closed:
            self._camera.close()
            self.closed = True
        return self.output

    def abort(self) -> None:
        self.close()
