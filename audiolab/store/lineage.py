"""Generations in the catalog, and the takes made from them: generate, regenerate, extend.

:meth:`Lineage.generate` runs :func:`audiolab.generate.generate` into the
catalog: one ``pending`` row per take while MusicGen runs, completed with the
take's file, its measurement (with its seams) and its full provenance as
``params`` (with the export settings under ``"export"``).

From that provenance :meth:`Lineage.regenerate` makes the same take again, as
a new job whose ``parent_id`` is the original (``relation`` ``"regenerate"``):
the same samples on the same device and versions (a warning says when the
versions differ). :meth:`Lineage.extend` continues a take by some seconds into
a new job (``relation`` ``"extend"``) that starts with the original's audio.
``records(parent_id=...)`` lists the takes made from one; :meth:`Lineage.lineage`
walks back to the first.

Examples
--------
>>> import tempfile
>>> from audiolab.store import Store
>>> from audiolab.testing import tiny_musicgen
>>> store = Store(tempfile.mkdtemp())
>>> model = str(tiny_musicgen(tempfile.mkdtemp()))
>>> (take,) = store.generate("lofi piano", 4.0, model=model, seed=1, progress=False)
>>> longer = store.extend(take.job_id, 2.0, seed=2, progress=False)
>>> longer.parent_id == take.job_id, longer.relation, longer.duration_seconds
(True, 'extend', 6.0)
>>> [r.job_id for r in store.lineage(longer.job_id)] == [take.job_id, longer.job_id]
True
"""

from __future__ import annotations

import secrets
import warnings
from typing import Any

from audiolab.errors import AudioError
from audiolab.store.lifecycle import Lifecycle
from audiolab.store.schema import Record, check_job_id, to_row, update_sql

__all__ = ["Lineage"]

#: What a take's provenance passes back to ``generate`` when it is made again.
_SETTINGS = (
    "guidance_scale",
    "temperature",
    "top_k",
    "top_p",
    "window_s",
    "overlap_s",
    "crossfade_s",
    "include_prompt",
)
_VERSIONS = ("audiolab_version", "transformers_version", "torch_version")
_PLAIN = (str, int, float, bool, type(None))


class Lineage(Lifecycle):
    """Generate into the catalog, regenerate and extend takes (a mixin over the lifecycle)."""

    def _set(self, job_id: str, **values: Any) -> None:
        row = to_row(values)
        with self._write() as connection:
            connection.execute(update_sql(row), (*row.values(), job_id))

    def generate(
        self,
        prompt: str,
        duration: float = 8.0,
        *,
        parent_id: str | None = None,
        relation: str | None = None,
        target_lufs: float = -16.0,
        true_peak_db: float = -1.0,
        bit_depth: str = "PCM_16",
        **generate_options: Any,
    ) -> list[Record]:
        """Generate takes with MusicGen into the catalog, one job per take.

        Parameters
        ----------
        prompt : str
        duration : float
            Seconds of new audio (see :func:`audiolab.generate.generate`).
        parent_id : str, optional
            The job these takes are made from (with ``relation``).
        relation : {'regenerate', 'extend'}, optional
        target_lufs, true_peak_db, bit_depth
            How each take is exported (:func:`audiolab.export.export_wav`),
            recorded in its ``params["export"]``.
        **generate_options
            Keyword arguments of :func:`audiolab.generate.generate` (``model``,
            ``seed``, ``n``, ``audio_prompt``, ``melody``, ...).

        Returns
        -------
        list of Record
            One completed row per take, in order.

        Raises
        ------
        ModelNotAvailableError
            The model cannot be loaded (before any row is written).
        AudioError
            As :func:`~audiolab.generate.generate`; the takes' rows are then
            ``failed`` with the error.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> from audiolab.testing import tiny_musicgen
        >>> store, model = Store(tempfile.mkdtemp()), str(tiny_musicgen(tempfile.mkdtemp()))
        >>> a, b = store.generate("techno", 1.0, model=model, seed=5, n=2, progress=False)
        >>> (a.seed, b.seed), a.params["seed"], a.params["export"]["target_lufs"]
        ((5, 6), 5, -16.0)
        """
        from audiolab.generate import DEFAULT_MODEL, generate, preload

        if not isinstance(prompt, str):
            raise AudioError(f"a prompt must be non-empty text, got {prompt!r}")
        if parent_id is not None:
            check_job_id(parent_id)
        model = generate_options.setdefault("model", DEFAULT_MODEL)
        n = generate_options.get("n", 1)
        seed = generate_options.get("seed")
        if seed is None:
            seed = generate_options["seed"] = secrets.randbelow(2**31)
        export: dict[str, Any] = {
            "target_lufs": target_lufs,
            "true_peak_db": true_peak_db,
            "bit_depth": bit_depth,
        }
        asked = {k: v for k, v in generate_options.items() if isinstance(v, _PLAIN)}
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise AudioError(f"n must be an integer of at least 1, got {n!r}")
        # a model that cannot be loaded leaves no row behind
        preload(
            model,
            device=generate_options.get("device", "auto"),
            dtype=generate_options.get("dtype", "auto"),
        )
        jobs = []
        for i in range(n):
            seed_i = seed + i if isinstance(seed, int) else None
            params = {**asked, "duration": duration, "export": export}
            jobs.append(self.begin(prompt, model, params, seed_i))
            if parent_id is not None or relation is not None:
                self._set(jobs[-1].job_id, parent_id=parent_id, relation=relation)
        try:
            takes = generate(prompt, duration, **{**generate_options, "n": n})
        except BaseException as err:
            for job in jobs:
                self.fail(job, err)
            raise
        takes = takes if isinstance(takes, list) else [takes]
        records, first_error = [], None
        for job, take in zip(jobs, takes, strict=True):
            self._set(job.job_id, params={**take.parameters, "export": export}, seed=take.seed)
            try:
                records.append(
                    self.complete(
                        job,
                        take.audio,
                        take.sample_rate,
                        generation_seconds=take.seconds,
                        measure_options={"seams_s": take.seams_s} if take.seams_s else None,
                        **export,
                    )
                )
            except Exception as err:  # that take is failed; the others still land
                first_error = first_error or err
        if first_error is not None:
            raise first_error
        return records

    def _made(self, job_id: str) -> tuple[Record, dict[str, Any]]:
        record = self.get(check_job_id(job_id))
        if record is None:
            raise AudioError(f"job {job_id!r} is not in the catalog {self.catalog_path}")
        params = record.params or {}
        if record.status != "complete" or "sampler" not in params:
            raise AudioError(
                f"job {job_id!r} ({record.status}) was not completed by audiolab.generate: "
                "it has no provenance to make it again from"
            )
        return record, params

    def _conditioning(self, job_id: str, name: str, info: Any, given: Any) -> Any:
        """The audio prompt or melody of a recorded take, checked against its SHA-256."""
        if info is None:
            return None
        from audiolab._provenance import read_conditioning

        if given is None:
            if info.get("source") == "job" and info.get("job_id"):
                given = self.get(info["job_id"])
            elif info.get("source") == "file":
                given = info.get("path")
            if given is None:
                raise AudioError(
                    f"job {job_id!r} was conditioned on {name} audio given in memory "
                    f"(sha256 {info.get('sha256')}): pass it again as {name}="
                )
        _, _, found = read_conditioning(given, name)
        if found["sha256"] != info.get("sha256"):
            raise AudioError(
                f"the {name} of job {job_id!r} has changed since (sha256 {found['sha256']}, "
                f"recorded {info.get('sha256')}): it cannot be made again from it"
            )
        return given

    def regenerate(
        self,
        job_id: str,
        *,
        audio_prompt: Any = None,
        melody: Any = None,
        progress: bool = False,
    ) -> Record:
        """Make take ``job_id`` again from its provenance, as a new job linked to it.

        Same model, seed, settings, device, dtype and audio inputs (each checked
        against its recorded SHA-256): the same samples on the same device and
        versions. A warning names the versions that differ.

        Parameters
        ----------
        job_id : str
        audio_prompt, melody : optional
            The take's audio inputs when they were given in memory (they are
            checked against the recorded SHA-256).
        progress : bool

        Returns
        -------
        Record
            The new job: ``parent_id`` is ``job_id``, ``relation`` ``"regenerate"``.

        Raises
        ------
        AudioError
            An unknown job, one not made by :func:`audiolab.generate.generate`,
            or audio inputs that are gone or changed.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> from audiolab.testing import tiny_musicgen
        >>> store, model = Store(tempfile.mkdtemp()), str(tiny_musicgen(tempfile.mkdtemp()))
        >>> (take,) = store.generate("techno", 1.0, model=model, progress=False)
        >>> again = store.regenerate(take.job_id)
        >>> again.parent_id == take.job_id, again.seed == take.seed
        (True, True)
        """
        from audiolab._provenance import versions

        record, params = self._made(job_id)
        now = versions()
        changed = [
            f"{k} {params.get(k)} (now {now[k]})" for k in _VERSIONS if params.get(k) != now[k]
        ]
        if changed:
            warnings.warn(
                f"job {job_id!r} was made with {', '.join(changed)}: the samples may differ",
                stacklevel=2,
            )
        options = {k: params[k] for k in _SETTINGS if k in params}
        export = params.get("export") or {}
        (again,) = self.generate(
            record.prompt or "",
            params["duration"],
            model=record.model,
            seed=params["seed"],
            device=params.get("device", "auto"),
            dtype=params.get("dtype", "auto"),
            audio_prompt=self._conditioning(
                job_id, "audio_prompt", params.get("audio_prompt"), audio_prompt
            ),
            melody=self._conditioning(job_id, "melody", params.get("melody"), melody),
            progress=progress,
            parent_id=job_id,
            relation="regenerate",
            **options,
            **export,
        )
        return again

    def extend(
        self,
        job_id: str,
        seconds: float,
        *,
        seed: int | None = None,
        prompt: str | None = None,
        **generate_options: Any,
    ) -> Record:
        """Continue take ``job_id`` by ``seconds`` into a new job that starts with it.

        The model hears the last ``overlap_s`` of the take's file and continues
        it with the take's model and sampling settings (``generate_options``
        override them).

        Parameters
        ----------
        job_id : str
        seconds : float
            Seconds of new audio.
        seed : int, optional
            Default: a new random seed.
        prompt : str, optional
            Default: the take's prompt.
        **generate_options
            Keyword arguments of :meth:`generate`.

        Returns
        -------
        Record
            The new job: ``parent_id`` is ``job_id``, ``relation`` ``"extend"``;
            its seams include the end of the original.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> from audiolab.testing import tiny_musicgen
        >>> store, model = Store(tempfile.mkdtemp()), str(tiny_musicgen(tempfile.mkdtemp()))
        >>> (take,) = store.generate("techno", 1.0, model=model, progress=False)
        >>> store.extend(take.job_id, 1.0, progress=False).params["seams_s"]
        [1.0]
        """
        record = self.get(check_job_id(job_id))
        if record is None or record.status != "complete" or record.absolute_path is None:
            state = "not in the catalog" if record is None else f"{record.status}, without a file"
            raise AudioError(f"job {job_id!r} cannot be extended: {state}")
        params = record.params or {}
        options = {k: params[k] for k in _SETTINGS if k in params and k != "include_prompt"}
        options |= {k: v for k, v in (params.get("export") or {}).items()}
        if record.model:
            options["model"] = record.model
        options |= generate_options
        (longer,) = self.generate(
            prompt if prompt is not None else record.prompt or "",
            seconds,
            seed=seed,
            audio_prompt=record,
            parent_id=job_id,
            relation="extend",
            **options,
        )
        return longer

    def link(self, job_id: str, parent_id: str, relation: str) -> Record:
        """Record that take ``job_id`` was made from ``parent_id`` (extended or regenerated).

        What :meth:`extend` and :meth:`regenerate` record themselves; for takes
        made elsewhere (the audition widget extends takes before they are kept).

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> store = Store(tempfile.mkdtemp())
        >>> first, second = store.begin(prompt="a"), store.begin(prompt="a, longer")
        >>> store.link(second.job_id, first.job_id, "extend").parent_id == first.job_id
        True
        """
        if relation not in ("extend", "regenerate"):
            raise AudioError(f"relation must be 'extend' or 'regenerate', got {relation!r}")
        for name in (job_id, parent_id):
            if self.get(check_job_id(name)) is None:
                raise AudioError(f"job {name!r} is not in the catalog {self.catalog_path}")
        if job_id == parent_id:
            raise AudioError(f"job {job_id!r} cannot be made from itself")
        self._set(job_id, parent_id=parent_id, relation=relation)
        record = self.get(job_id)
        assert record is not None
        return record

    def lineage(self, job_id: str) -> list[Record]:
        """The takes ``job_id`` was made from, from the first to ``job_id`` itself.

        Examples
        --------
        >>> import tempfile
        >>> from audiolab.store import Store
        >>> store = Store(tempfile.mkdtemp())
        >>> job = store.begin(prompt="x")
        >>> [r.job_id for r in store.lineage(job.job_id)] == [job.job_id]
        True
        """
        chain: list[Record] = []
        seen: set[str] = set()
        current: str | None = check_job_id(job_id)
        while current is not None and current not in seen:
            record = self.get(current)
            if record is None:
                if not chain:
                    raise AudioError(f"job {job_id!r} is not in the catalog {self.catalog_path}")
                break  # an ancestor since deleted: the chain starts after it
            seen.add(current)
            chain.append(record)
            current = record.parent_id
        return chain[::-1]
