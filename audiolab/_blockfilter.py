"""A cascade of biquads run as matrix products: recursive filtering in numpy.

A recursive (IIR) filter is a loop over samples, which numpy cannot
vectorise and scipy runs one sample at a time (``sosfilt``). Split the
signal into blocks of ``L`` samples instead. With the filter in state-space
form (state ``s``: the transposed direct form II registers of every section,
as ``sosfilt`` keeps them), ``s[n+1] = A s[n] + B x[n]``, ``y[n] = C s[n] +
D x[n]``, block ``j`` with input row ``x_j`` and state ``s_j`` at its start
gives

    y_j     = H x_j + O s_j          H[i, k] = h[i - k] (impulse response), O[i] = C A^i
    s_{j+1} = M s_j + K x_j          M = A^L, K[:, k] = A^(L-1-k) B

so every block's output is two matrix products (BLAS, no Python loop), and
the states form a linear recurrence ``s_{j+1} = M s_j + z_j`` over the
blocks that a prefix scan by doubling solves in ``log2(blocks)`` vectorised
steps: after the step of width ``d``, ``t_j`` holds ``sum M^(j-i) z_i`` over
``j - 2d < i <= j``.

Nothing is truncated: the result is the filter's output from rest up to
floating-point rounding (relative 1e-12 against ``scipy.signal.sosfilt`` at
48 kHz), and needs only numpy.

Examples
--------
>>> import numpy as np
>>> from scipy.signal import sosfilt
>>> from audiolab._blockfilter import BlockFilter
>>> sos = np.array([[0.25, 0.5, 0.25, 1.0, -0.2, 0.1], [1.0, -2.0, 1.0, 1.0, -1.99, 0.9901]])
>>> x = np.random.default_rng(0).standard_normal(10_000)
>>> bool(np.allclose(BlockFilter(sos, 32).filter(x), sosfilt(sos, x), rtol=0, atol=1e-9))
True
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["BlockFilter"]

#: Blocks per group in the solution of the block recurrence.
_GROUP = 16


def _state_space(sos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(A, B, C, D) of a cascade of biquads, each in transposed direct form II.

    One section, normalised (a0 = 1): ``y = z1 + b0 x``, ``z1' = z2 + b1 x - a1 y``,
    ``z2' = b2 x - a2 y``. Section k + 1 reads the output of section k.
    """
    n_sections = len(sos)
    size = 2 * n_sections
    a_matrix = np.zeros((size, size))
    b_vector = np.zeros(size)
    c_vector = np.zeros(size)  # the cascade's output so far, as a function of the state ...
    d_value = 1.0  # ... and of the input
    for k, (b0, b1, b2, a0, a1, a2) in enumerate(np.asarray(sos, dtype=np.float64)):
        b0, b1, b2, a1, a2 = b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0
        rows = slice(2 * k, 2 * k + 2)
        # the section's input u = c_vector . s + d_value * x; its registers follow
        # z' = [[-a1, 1], [-a2, 0]] z + [b1 - a1 b0, b2 - a2 b0] u
        feed = np.array([b1 - a1 * b0, b2 - a2 * b0])
        a_matrix[rows] += np.outer(feed, c_vector)
        a_matrix[rows, rows] = [[-a1, 1.0], [-a2, 0.0]]
        b_vector[rows] = feed * d_value
        # its output y = z1 + b0 u
        c_vector = b0 * c_vector
        c_vector[2 * k] += 1.0
        d_value *= b0
    return a_matrix, b_vector, c_vector, d_value


class BlockFilter:
    """A biquad cascade (scipy's ``sos`` layout) applied block by block with BLAS.

    Parameters
    ----------
    sos : numpy.ndarray
        (sections, 6) rows ``[b0, b1, b2, a0, a1, a2]``.
    block : int
        Samples per block ``L``; the products cost about ``L`` multiply-adds a sample.

    Examples
    --------
    >>> import numpy as np
    >>> f = BlockFilter(np.array([[1.0, 0.0, 0.0, 1.0, -0.5, 0.0]]), 4)  # y[n] = x[n] + y[n-1] / 2
    >>> f.filter(np.array([1.0, 0.0, 0.0, 0.0, 0.0]))
    array([1.    , 0.5   , 0.25  , 0.125 , 0.0625])
    """

    def __init__(self, sos: np.ndarray, block: int) -> None:
        a_matrix, b_vector, c_vector, d_value = _state_space(sos)
        size = len(b_vector)
        powers = [np.eye(size)]
        for _ in range(block):
            powers.append(a_matrix @ powers[-1])
        response = np.array([d_value] + [c_vector @ powers[i] @ b_vector for i in range(block - 1)])
        impulse = np.zeros((block, block))  # H[i, k] = h[i - k]
        for i in range(block):
            impulse[i, : i + 1] = response[i::-1]
        self.block = block
        self.size = size
        self._impulse_t = np.ascontiguousarray(impulse.T)  # y_j = x_j @ H^T + s_j @ O^T
        self._observe_t = np.ascontiguousarray(np.stack([c_vector @ p for p in powers[:block]]).T)
        self._carry_t = np.ascontiguousarray(  # z_j = x_j @ K^T
            np.stack([powers[block - 1 - k] @ b_vector for k in range(block)])
        )
        self._powers = powers  # A^0 .. A^L, for a last, partial block
        self._input = b_vector
        # the recurrence over the blocks, s_(j+1) = M s_j + z_j with M = A^L, in groups
        step = powers[block]
        step_powers = [np.eye(size)]
        for _ in range(_GROUP):
            step_powers.append(step @ step_powers[-1])
        group = _GROUP
        # e_k = sum_i M^(G-1-i) z_(k,i), rows of z stacked: block row i is (M^(G-1-i))^T
        self._group_end = np.concatenate([step_powers[group - 1 - i].T for i in range(group)])
        # inside a group: block (j, i) is (M^(i-1-j))^T for j < i
        inner = np.zeros((group, size, group, size))
        for i in range(group):
            for j in range(i):
                inner[j, :, i, :] = step_powers[i - 1 - j].T
        self._group_inner = inner.reshape(group * size, group * size)
        # from the group's start: block i is (M^i)^T
        self._group_powers = np.concatenate([step_powers[i].T for i in range(group)], axis=1)
        # ((M^G)^(2^k))^T for the doubling scan, enough for 2^48 groups; computed here,
        # once, as the filter is shared by threads
        self._group_step = [np.ascontiguousarray(step_powers[group].T)]
        for _ in range(48):
            self._group_step.append(self._group_step[-1] @ self._group_step[-1])

    def states(self, blocks: np.ndarray, start: np.ndarray) -> np.ndarray:
        """The state at the start of every block of ``blocks`` (rows).

        ``s_(j+1) = M s_j + z_j`` with ``z_j`` each block's own contribution.
        Solved in groups of G blocks: the state at the end of each group from
        its own blocks (one product), the recurrence over the groups (a scan
        by doubling, over G times fewer terms), then every state inside the
        groups from its group's start and the blocks before it in the group
        (two products).

        Parameters
        ----------
        blocks : numpy.ndarray
            (n_blocks, L) input.
        start : numpy.ndarray
            The state before the first block.

        Returns
        -------
        numpy.ndarray
            (n_blocks + 1, size): the state before each block, and after the last.
        """
        size, group = self.size, _GROUP
        n_blocks = len(blocks)
        n_groups = n_blocks // group + 1  # the last one holds the state after the last block
        own = np.zeros((n_groups * group, size))
        np.matmul(blocks, self._carry_t, out=own[:n_blocks])  # z_j
        rows = own.reshape(n_groups, group * size)
        # the state at the start of every group: g_(k+1) = M^G g_k + e_k
        starts = np.empty((n_groups, size))
        starts[0] = start
        scan = starts[1:]
        np.matmul(rows[:-1], self._group_end, out=scan)  # e_k
        if len(scan):
            scan[0] += start @ self._group_step[0]
        width, level = 1, 0
        while width < len(scan):  # prefix scan by doubling: c_k += M^(G width) c_(k - width)
            scan[width:] += scan[:-width] @ self._group_step[level]
            width, level = 2 * width, level + 1
        # inside the groups: s_(k,i) = M^i g_k + sum_(j<i) M^(i-1-j) z_(k,j)
        inside = rows @ self._group_inner
        inside += starts @ self._group_powers
        return inside.reshape(n_groups * group, size)[: n_blocks + 1]

    def chunks(self, x: np.ndarray, chunk: int) -> Iterator[tuple[int, np.ndarray]]:
        """The output from rest, ``chunk`` samples at a time: ``(start, y)`` pairs.

        Each chunk's block states are solved from the state the chunk before
        ended in, and its output is then two matrix products: everything stays
        in cache, for the caller too while it uses ``y``, which the next chunk
        overwrites.

        Parameters
        ----------
        x : numpy.ndarray
            1-D float64 input.
        chunk : int
            Samples per chunk, a multiple of the block length.

        Yields
        ------
        start : int
            Index of the chunk's first sample.
        y : numpy.ndarray
            ``output[start : start + len(y)]``.
        """
        length, n = self.block, len(x)
        if chunk % length:
            raise ValueError(f"chunk must be a multiple of {length} samples, got {chunk}")
        n_full = n // length
        rest = n - n_full * length
        blocks = x[: n_full * length].reshape(n_full, length)
        per = chunk // length
        buffer = np.empty(min(per, n_full) * length + rest)
        state = np.zeros(self.size)
        for first in range(0, max(n_full, 1), per):
            rows = blocks[first : first + per]
            used = len(rows) * length
            states = self.states(rows, state)  # before each block, and after the last
            self._output(rows, states[:-1], buffer[:used])
            state = states[-1]
            if first + per >= n_full and rest:  # the last chunk takes the partial block too
                self._output(x[n_full * length :], state, buffer[used : used + rest])
                used += rest
            yield first * length, buffer[:used]

    def _output(self, blocks: np.ndarray, states: np.ndarray, out: np.ndarray) -> None:
        """``out`` = the output of whole blocks (rows, their start states), or of one
        partial block (1-D ``blocks``, one state): ``H x + O s`` for each."""
        size = blocks.shape[-1]
        if blocks.ndim == 2:
            rows = out.reshape(blocks.shape)
            np.matmul(blocks, self._impulse_t, out=rows)
            rows += states @ self._observe_t
        else:
            np.matmul(blocks, self._impulse_t[:size, :size], out=out)
            out += states @ self._observe_t[:, :size]

    def apply(
        self, x: np.ndarray, state: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Filter ``x`` starting from ``state``: the output and the state after it.

        Calls on consecutive pieces of a signal, each with the state the one
        before returned, give the output of one call on the whole signal.

        Parameters
        ----------
        x : numpy.ndarray
            1-D float64 input, any length.
        state : numpy.ndarray, optional
            The registers of every section (``2 * sections`` values), as
            returned; None is rest.

        Returns
        -------
        y : numpy.ndarray
            float64, the same length as ``x``.
        state : numpy.ndarray
            The registers after the last sample.
        """
        length, n = self.block, len(x)
        n_full = n // length
        blocks = x[: n_full * length].reshape(n_full, length)
        start = np.zeros(self.size) if state is None else np.asarray(state, dtype=np.float64)
        states = self.states(blocks, start)
        y = np.empty(n)
        self._output(blocks, states[:-1], y[: n_full * length])
        rest = n - n_full * length
        end = states[-1]
        if rest:  # a last, partial block of `rest` samples
            tail = x[n_full * length :]
            self._output(tail, end, y[n_full * length :])
            carry = np.stack([self._powers[rest - 1 - k] @ self._input for k in range(rest)])
            end = self._powers[rest] @ end + tail @ carry
        return y, end

    def filter(self, x: np.ndarray) -> np.ndarray:
        """The filtered signal, from rest (as ``scipy.signal.sosfilt(sos, x)``).

        Parameters
        ----------
        x : numpy.ndarray
            1-D input.

        Returns
        -------
        numpy.ndarray
            float64, the same length.

        Examples
        --------
        >>> import numpy as np
        >>> BlockFilter(np.array([[0.5, 0.5, 0.0, 1.0, 0.0, 0.0]]), 2).filter(np.ones(3))
        array([0.5, 1. , 1. ])
        """
        return self.apply(np.ascontiguousarray(x, dtype=np.float64))[0]
