"""EnCodec's decode one take at a time: a take's samples depend on its tokens alone.

A loaded MusicGen network (:mod:`audiolab._musicgen`) decodes through a
:class:`TakeByTakeDecoder` installed in place of its audio encoder's
``decode``: the samples of a take then do not depend on how many takes shared
the batch, and the codes it was given are kept for windowed continuation
(:mod:`audiolab._windowed`).

Examples
--------
>>> import torch
>>> decoder = TakeByTakeDecoder(lambda codes, scales, **kw: (codes[0, :, :1].float(),))
>>> decoder(torch.ones(1, 3, 4, 2, dtype=torch.long), [None], return_dict=False)[0].shape
torch.Size([3, 1, 2])
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["TakeByTakeDecoder"]


class TakeByTakeDecoder:
    """EnCodec's ``decode``, one take at a time, keeping the codes it was given.

    Installed on a loaded network's audio encoder in place of its ``decode``
    (same arguments, same result): ``generate`` decodes through it.
    :meth:`capture` collects the codes of the calls made in this thread.

    Examples
    --------
    >>> import torch
    >>> decoder = TakeByTakeDecoder(lambda codes, scales, **kw: (codes[0, :, :1].float(),))
    >>> with decoder.capture() as codes:
    ...     out = decoder(torch.ones(1, 2, 4, 3, dtype=torch.long), [None, None], return_dict=False)
    >>> out[0].shape, codes[0].shape
    (torch.Size([2, 1, 3]), torch.Size([1, 2, 4, 3]))
    """

    def __init__(self, decode: Any) -> None:
        self.decode = decode
        self._local = threading.local()

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[Any]]:
        """A context manager: inside it, every call's ``audio_codes`` are appended to a list."""
        codes: list[Any] = []
        self._local.codes = codes
        try:
            yield codes
        finally:
            self._local.codes = None

    def __call__(self, audio_codes: Any, audio_scales: Any = None, **kwargs: Any) -> Any:
        """Decode ``audio_codes`` (frames, takes, codebooks, length) take by take."""
        import torch

        captured = getattr(self._local, "codes", None)
        if captured is not None:
            captured.append(audio_codes)
        takes = int(audio_codes.shape[1])
        scales = list(audio_scales) if audio_scales is not None else [None]
        if takes == 1 or any(s is not None for s in scales):  # scaled codecs: as given
            return self.decode(audio_codes, audio_scales, **kwargs)
        one = {**kwargs, "return_dict": False}
        pieces = [self.decode(audio_codes[:, i : i + 1], [None], **one)[0] for i in range(takes)]
        audio = torch.cat(pieces)
        if kwargs.get("return_dict") is False:
            return (audio,)
        from transformers.models.encodec.modeling_encodec import EncodecDecoderOutput

        return EncodecDecoderOutput(audio_values=audio)
