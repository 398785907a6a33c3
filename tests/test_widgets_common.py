"""ganlab.widgets._common: the animation helpers refuse invalid input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import INF, NAN

from ganlab.widgets import _common

# ----------------------------------------------------------------------------- animations


def test_frames_to_jshtml_refuses_no_frames_mixed_shapes_and_bad_rates():
    frame = np.zeros((8, 8, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="at least one frame"):
        _common.frames_to_jshtml([], dpi=72, fps=1)
    with pytest.raises(ValueError, match=r"one shape, got shapes \[\(8, 8, 3\), \(9, 8, 3\)\]"):
        _common.frames_to_jshtml([frame, np.zeros((9, 8, 3), dtype=np.uint8)], dpi=72, fps=1)
    with pytest.raises(ValueError, match=r"RGB arrays \(H, W, 3\)"):
        _common.frames_to_jshtml([np.zeros((8, 8), dtype=np.uint8)], dpi=72, fps=1)
    for fps in (0, -1, NAN, INF):
        with pytest.raises(ValueError, match="fps must be a positive"):
            _common.frames_to_jshtml([frame], dpi=72, fps=fps)
    with pytest.raises(ValueError, match="dpi must be a positive"):
        _common.frames_to_jshtml([frame], dpi=0, fps=1)
    assert "<img" in _common.frames_to_jshtml([frame, frame], dpi=72, fps=1)
