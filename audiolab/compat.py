"""The seed's class API, as thin facades over audiolab's functions.

Code written against the seed keeps working: ``AudioExporter`` over
:func:`audiolab.export.export_wav`, ``AudioMetadataExtractor`` over
:func:`audiolab.measure.measure`, ``AudioFileManager`` over
:class:`audiolab.store.Store`. New code should call the functions.

Examples
--------
>>> import tempfile, os
>>> from audiolab.compat import AudioExporter
>>> from audiolab.testing import programme
>>> target = os.path.join(tempfile.mkdtemp(), "a.wav")
>>> path, size = AudioExporter().export_wav(programme(1.0, 32000), target)
>>> size > 0
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

__all__ = ["AudioExporter", "AudioFileManager", "AudioMetadataExtractor"]


class AudioExporter:
    """The seed's exporter: WAV files at a loudness target.

    Parameters
    ----------
    target_lufs : float
        Integrated loudness of every export (default -16 LUFS).

    Examples
    --------
    >>> import tempfile, os
    >>> from audiolab.testing import programme
    >>> exporter = AudioExporter(target_lufs=-14.0)
    >>> target = os.path.join(tempfile.mkdtemp(), "b.wav")
    >>> path, size = exporter.export_wav(programme(1.0, 32000), target)
    >>> path.endswith("b.wav")
    True
    """

    def __init__(self, target_lufs: float = -16.0) -> None:
        self.target_lufs = target_lufs

    def export_wav(
        self,
        audio_tensor: Any,
        output_path: str | os.PathLike[str],
        sample_rate: int = 32000,
        normalize: bool = True,
        bit_depth: str = "PCM_16",
    ) -> tuple[str, int]:
        """Export one clip; returns ``(output_path, file_size_bytes)``.

        Examples
        --------
        >>> import tempfile, os
        >>> from audiolab.testing import programme
        >>> target = os.path.join(tempfile.mkdtemp(), "c.wav")
        >>> _, size = AudioExporter().export_wav(programme(1.0, 32000), target)
        >>> size > 44
        True
        """
        from audiolab.export import export_wav

        result = export_wav(
            audio_tensor,
            output_path,
            sample_rate,
            normalize=normalize,
            target_lufs=self.target_lufs,
            bit_depth=bit_depth,
        )
        return os.fspath(output_path), result.file_size_bytes

    def export_wav_batch(
        self,
        audio_tensors: Sequence[Any],
        output_paths: Sequence[str | os.PathLike[str]],
        sample_rate: int = 32000,
        normalize: bool = True,
        bit_depth: str = "PCM_16",
    ) -> list[tuple[str, int]]:
        """Export several clips; returns ``[(output_path, file_size_bytes), ...]``.

        Raises :class:`audiolab.export.BatchExportError` after writing the good
        ones when some fail.

        Examples
        --------
        >>> import tempfile, os
        >>> from audiolab.testing import programme
        >>> folder = tempfile.mkdtemp()
        >>> paths = [os.path.join(folder, f"{i}.wav") for i in range(2)]
        >>> out = AudioExporter().export_wav_batch([programme(1.0, 32000)] * 2, paths)
        >>> [os.path.basename(p) for p, _ in out]
        ['0.wav', '1.wav']
        """
        from audiolab.export import export_wav_batch

        results = export_wav_batch(
            audio_tensors,
            output_paths,
            sample_rate,
            normalize=normalize,
            target_lufs=self.target_lufs,
            bit_depth=bit_depth,
        )
        return [
            (os.fspath(p), r.file_size_bytes)
            for p, r in zip(output_paths, results, strict=True)
            if not isinstance(r, Exception)  # errors="raise": every item is a result
        ]


class AudioMetadataExtractor:
    """The seed's metadata extractor: :func:`audiolab.measure.measure` as a dict.

    The dict has the seed's fields under the seed's names (``duration_seconds``,
    ``sample_rate``, ``channels``, ``file_size_bytes``, ``bit_depth``, ``bpm``,
    ``key``, ``peak_amplitude``, ``rms_energy``, ``dynamic_range_db``), then
    audiolab's (loudness, ``key_confidence``, ...); every key is always there,
    None when not computed or not known (see :meth:`Measurement.to_dict
    <audiolab.measure.Measurement.to_dict>`).

    Parameters
    ----------
    extract_bpm : bool
        Estimate the tempo (``bpm``).
    extract_key : bool
        Estimate the key (``key``, ``key_confidence``).

    Examples
    --------
    >>> from audiolab.synth import reference
    >>> ref = reference(128, "A minor", duration=8.0, sr=16000)
    >>> meta = AudioMetadataExtractor(extract_key=True).extract_metadata_from_tensor(
    ...     ref.audio, 16000
    ... )
    >>> round(meta["bpm"]), meta["key"], meta["channels"], meta["file_size_bytes"]
    (128, 'A minor', 2, None)
    """

    def __init__(self, extract_bpm: bool = True, extract_key: bool = False) -> None:
        self.extract_bpm = extract_bpm
        self.extract_key = extract_key

    def extract_metadata(
        self, audio_path: str | os.PathLike[str], compute_stats: bool = True
    ) -> dict[str, Any]:
        """Measure a file; the seed's dict (plus loudness).

        Parameters
        ----------
        audio_path : str or os.PathLike
            Any file soundfile reads.
        compute_stats : bool
            Peak, RMS and dynamic range (None otherwise).

        Returns
        -------
        dict

        Raises
        ------
        audiolab.AudioError
            A missing, empty, truncated or non-audio file (named in the message).

        Examples
        --------
        >>> import os, tempfile, soundfile
        >>> from audiolab.synth import reference
        >>> path = os.path.join(tempfile.mkdtemp(), "clip.wav")
        >>> soundfile.write(path, reference(100, "C major", 6.0, 16000).audio.T, 16000)
        >>> meta = AudioMetadataExtractor().extract_metadata(path)
        >>> round(meta["bpm"]), meta["bit_depth"], meta["key"]
        (100, 'PCM_16', None)
        """
        from audiolab.measure import measure

        return measure(
            audio_path, bpm=self.extract_bpm, key=self.extract_key, stats=compute_stats
        ).to_dict()

    def extract_metadata_from_tensor(self, audio_tensor: Any, sample_rate: int) -> dict[str, Any]:
        """Measure audio (a tensor or an array); the seed's dict (plus loudness).

        Parameters
        ----------
        audio_tensor : torch.Tensor or numpy.ndarray
            Mono, ``(channels, samples)`` or MusicGen's ``(1, channels, samples)``.
        sample_rate : int
            Hz.

        Returns
        -------
        dict
            ``file_size_bytes`` and ``bit_depth`` are None (there is no file).

        Raises
        ------
        audiolab.AudioError
            Invalid audio or sample rate.

        Examples
        --------
        >>> import numpy as np
        >>> meta = AudioMetadataExtractor().extract_metadata_from_tensor(np.zeros(8000), 8000)
        >>> meta["duration_seconds"], meta["bpm"], meta["peak_amplitude"]
        (1.0, None, 0.0)
        """
        from audiolab.measure import measure

        return measure(
            audio_tensor, sample_rate, bpm=self.extract_bpm, key=self.extract_key
        ).to_dict()


class AudioFileManager:
    """The seed's file manager: a :class:`audiolab.store.Store` under ``base_dir``.

    Files go to ``base_dir/YYYY/MM/DD/<job_id>.wav`` (UTC). Each of the seed's
    methods maps onto the store's own (``get_file_size`` onto
    :meth:`Store.file_size_bytes`, ``list_files`` onto :meth:`Store.files`,
    ``get_storage_stats`` onto :meth:`Store.stats`, ``cleanup_old_files``
    onto :meth:`Store.cleanup`, ...), with paths returned as strings as the
    seed did. ``store`` is the Store itself, with the catalog.

    Parameters
    ----------
    base_dir : str or Path
        The folder (default ``data/outputs``).

    Examples
    --------
    >>> import tempfile
    >>> manager = AudioFileManager(tempfile.mkdtemp())
    >>> manager.get_output_path("gen_0000abcd", date="2026-11-25").endswith(
    ...     os.path.join("2026", "11", "25", "gen_0000abcd.wav"))
    True
    """

    def __init__(self, base_dir: str | os.PathLike[str] = "data/outputs") -> None:
        from audiolab.store import Store

        self.base_dir = os.fspath(base_dir)
        self.store = Store(base_dir)

    def get_output_path(self, job_id: str, extension: str = ".wav", date: Any = None) -> str:
        """Where the file of ``job_id`` goes (:meth:`Store.path_for`).

        Examples
        --------
        >>> import tempfile
        >>> AudioFileManager(tempfile.mkdtemp()).get_output_path("a", ".flac").endswith("a.flac")
        True
        """
        return os.fspath(self.store.path_for(job_id, date, extension))

    def get_file_size(self, file_path: str | os.PathLike[str]) -> int:
        """Bytes (:meth:`Store.file_size_bytes`)."""
        return self.store.file_size_bytes(file_path)

    def get_file_size_mb(self, file_path: str | os.PathLike[str]) -> float:
        """MiB, 2**20 bytes (:meth:`Store.file_size_bytes` / 2**20)."""
        return self.store.file_size_bytes(file_path) / 2**20

    def file_exists(self, file_path: str | os.PathLike[str]) -> bool:
        """Whether a regular file is there (:meth:`Store.has_file`)."""
        return self.store.has_file(file_path)

    def delete_file(self, file_path: str | os.PathLike[str]) -> bool:
        """Delete a file and its catalog row (:meth:`Store.delete`)."""
        return self.store.delete(file_path)

    def move_file(self, source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> str:
        """Move within the tree, catalog following (:meth:`Store.move`)."""
        return os.fspath(self.store.move(source, destination))

    def copy_file(self, source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> str:
        """Copy within the tree, catalog following (:meth:`Store.copy`)."""
        return os.fspath(self.store.copy(source, destination))

    def list_files(self, date: Any = None, limit: int | None = None) -> list[str]:
        """Files in the tree, newest day first (:meth:`Store.files`).

        Examples
        --------
        >>> import tempfile
        >>> AudioFileManager(tempfile.mkdtemp()).list_files()
        []
        """
        return [os.fspath(p) for p in self.store.files(date, limit)]

    def get_storage_stats(self) -> dict[str, Any]:
        """Files, bytes, per day and per status (:meth:`Store.stats`)."""
        return self.store.stats()

    def cleanup_old_files(self, days_old: float = 30, dry_run: bool = True) -> list[str]:
        """Files older than ``days_old`` days; deleted if not ``dry_run`` (:meth:`Store.cleanup`).

        Examples
        --------
        >>> import tempfile
        >>> AudioFileManager(tempfile.mkdtemp()).cleanup_old_files()
        []
        """
        return [os.fspath(p) for p in self.store.cleanup(days_old, dry_run=dry_run)]

    def cleanup_empty_directories(self) -> list[str]:
        """Remove empty date folders (:meth:`Store.remove_empty_folders`)."""
        return [os.fspath(p) for p in self.store.remove_empty_folders()]
