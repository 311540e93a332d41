"""Generated benign test videos (see vigil.demo.write_video)."""

from vigil.demo import write_video

__all__ = ["write_video"]
